namespace Artifex.Runtime;

/// <summary>
/// Splits a round's chunks into one contiguous part per thread. A thread first claims its own part, so the same
/// thread touches the same memory every round and the data stays in its core's cache (the OpenMP static schedule);
/// then it claims any part nobody has started, so a participant that is not scheduled, or a helper that is asleep,
/// never stalls the round. Which thread runs a part never changes a result.
/// </summary>
public sealed class PartClaims
{
    private readonly int[] _claimed;
    private PaddedCounter _done;
    private int _chunks;
    private Exception? _failure;

    /// <summary>Initializes the claims for <paramref name="parts"/> threads (one part each).</summary>
    /// <param name="parts">The number of parts, 1 or more.</param>
    public PartClaims(int parts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        _claimed = new int[parts];
    }

    /// <summary>Gets the number of parts.</summary>
    public int Parts => _claimed.Length;

    /// <summary>Gets whether every chunk of the round has been run.</summary>
    public bool IsDone => Volatile.Read(ref _done.Value) >= _chunks;

    /// <summary>Gets the first exception a chunk of the round threw, or <see langword="null"/>.</summary>
    /// <remarks>
    /// A failed chunk still counts as run, so the round ends and nobody waits for it forever; every waiter then sees the
    /// failure through <see cref="ThrowIfFailed"/>.
    /// </remarks>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>Gets the round's chunk count.</summary>
    public int Chunks => _chunks;

    /// <summary>Starts a round of <paramref name="chunks"/> chunks. Called when no thread is working on the previous round.</summary>
    /// <param name="chunks">The number of chunks.</param>
    public void Reset(int chunks)
    {
        Array.Clear(_claimed);
        _chunks = chunks;
        _failure = null;
        Volatile.Write(ref _done.Value, 0);
    }

    /// <summary>Throws when a chunk of the round failed. Call after <see cref="IsDone"/>.</summary>
    /// <exception cref="InvalidOperationException">A chunk failed; its exception is the inner one.</exception>
    public void ThrowIfFailed()
    {
        if (Failure is { } failure)
        {
            throw new InvalidOperationException(failure.Message, failure);
        }
    }

    /// <summary>Claims parts, own first, and runs their chunks. Returns true when this call finished the round's last chunk.</summary>
    /// <typeparam name="TRunner">The chunk runner (a struct, so the loop is specialized).</typeparam>
    /// <param name="self">The calling thread's own part.</param>
    /// <param name="runner">Runs chunk ranges.</param>
    /// <returns>True when this call ran the round's last chunk.</returns>
    public bool Work<TRunner>(int self, ref TRunner runner)
        where TRunner : struct, IChunkRunner
    {
        int parts = _claimed.Length;
        bool finishedRound = false;
        for (int step = 0; step < parts; step++)
        {
            int part = (self + step) % parts;
            if (Interlocked.CompareExchange(ref _claimed[part], 1, 0) != 0)
            {
                continue;
            }

            int first = (int)((long)_chunks * part / parts);
            int end = (int)((long)_chunks * (part + 1) / parts);
            if (end > first)
            {
                try
                {
                    runner.RunChunks(first, end);
                }
                catch (Exception error)
                {
                    Interlocked.CompareExchange(ref _failure, error, null);
                }

                finishedRound |= Interlocked.Add(ref _done.Value, end - first) == _chunks;
            }
        }

        return finishedRound;
    }
}
