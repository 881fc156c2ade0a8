namespace Artifex.Cpu.Runtime;

/// <summary>
/// Splits a round's chunks into one contiguous part per thread. A thread first claims its own part, so the same
/// thread touches the same memory every round and the data stays in its core's cache (the OpenMP static schedule);
/// then it claims any part nobody has started, so a participant that is not scheduled, or a helper that is asleep,
/// never stalls the round. Which thread runs a part never changes a result.
/// </summary>
internal sealed class PartClaims
{
    private readonly int[] _claimed;
    private PaddedCounter _done;
    private int _chunks;

    public PartClaims(int parts)
    {
        _claimed = new int[parts];
    }

    public int Parts => _claimed.Length;

    public bool IsDone => Volatile.Read(ref _done.Value) >= _chunks;

    public int Chunks => _chunks;

    /// <summary>Starts a round of <paramref name="chunks"/> chunks. Called when no thread is working on the previous round.</summary>
    public void Reset(int chunks)
    {
        Array.Clear(_claimed);
        _chunks = chunks;
        Volatile.Write(ref _done.Value, 0);
    }

    /// <summary>Claims parts, own first, and runs their chunks. Returns true when this call finished the round's last chunk.</summary>
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
                runner.RunChunks(first, end);
                finishedRound |= Interlocked.Add(ref _done.Value, end - first) == _chunks;
            }
        }

        return finishedRound;
    }
}
