using Artifex.Mpi.Interop;

namespace Artifex.Mpi;

/// <summary>
/// An MPI communicator: a group of processes, each with a rank, and the collectives over them on raw memory.
/// </summary>
/// <remarks>
/// <para>
/// Every collective must be called by every member, in the same order, with matching counts, element types, operations
/// and roots; each blocks until this process's part is done, and <see cref="MpiWatchdog"/> aborts the job if it never
/// completes. A communicator may be used by one thread at a time (two threads may use two communicators concurrently).
/// </para>
/// <para>
/// OpenMPI 4.1 takes <see cref="int"/> counts: <see cref="AllReduce(void*, void*, long, Type, ReduceOp)"/> and
/// <see cref="Broadcast(void*, long, Type, int)"/> split longer buffers into consecutive calls of at most
/// <see cref="int.MaxValue"/> elements; <see cref="AllGather(void*, void*, long, Type)"/> and
/// <see cref="ReduceScatterBlock(void*, void*, long, Type, ReduceOp)"/> reject a per-rank count above
/// <see cref="int.MaxValue"/>, because their rank-major layout cannot be cut into independent calls.
/// </para>
/// <para>A failed call throws <see cref="MpiException"/>; the communicator is then in an undefined state (see there).</para>
/// </remarks>
public sealed unsafe partial class MpiCommunicator : IDisposable
{
    private readonly bool _owned;
    private readonly string _allReduceWhat;
    private readonly string _allGatherWhat;
    private readonly string _reduceScatterWhat;
    private readonly string _broadcastWhat;
    private readonly string _barrierWhat;
    private readonly string _splitWhat;
    private nint _handle;

    internal MpiCommunicator(nint handle, bool owned, string name)
    {
        _handle = handle;
        _owned = owned;
        Name = name;
        int rank = 0, size = 0;
        MpiRuntime.Check(OpenMpi.MPI_Comm_rank(handle, &rank), "MPI_Comm_rank");
        MpiRuntime.Check(OpenMpi.MPI_Comm_size(handle, &size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
        _allReduceWhat = "all_reduce over " + name;
        _allGatherWhat = "all_gather over " + name;
        _reduceScatterWhat = "reduce_scatter over " + name;
        _broadcastWhat = "broadcast over " + name;
        _barrierWhat = "barrier over " + name;
        _splitWhat = "split of " + name;
    }

    /// <summary>Gets this process's rank in the communicator, 0 to <see cref="Size"/> - 1.</summary>
    public int Rank { get; }

    /// <summary>Gets the number of processes in the communicator.</summary>
    public int Size { get; }

    /// <summary>Gets the name the watchdog's messages use, e.g. <c>MPI_COMM_WORLD</c> or <c>axis 'data'</c>.</summary>
    public string Name { get; }

    /// <summary>Gets a value indicating whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => Volatile.Read(ref _handle) == 0;

    /// <summary>Gets or sets the most elements one MPI call moves (<see cref="int.MaxValue"/>; tests lower it to exercise chunking).</summary>
    internal long MaxElementsPerCall { get; set; } = int.MaxValue;

    /// <summary>Gets the MPI handle.</summary>
    /// <exception cref="ObjectDisposedException">The communicator was disposed.</exception>
    internal nint Handle
    {
        get
        {
            nint handle = Volatile.Read(ref _handle);
            ObjectDisposedException.ThrowIf(handle == 0, this);
            return handle;
        }
    }

    /// <summary>
    /// Splits the communicator (<c>MPI_Comm_split</c>): processes that pass the same <paramref name="color"/> form one new
    /// communicator, ranked by <paramref name="key"/> (ties by rank here). Collective: every member must call it.
    /// </summary>
    /// <param name="color">The group to join; a negative colour joins none (<c>MPI_UNDEFINED</c>).</param>
    /// <param name="key">The ordering key within the group.</param>
    /// <param name="name">The new communicator's <see cref="Name"/>; by default <c>split &lt;color&gt; of &lt;this name&gt;</c>.</param>
    /// <returns>The new communicator, which the caller disposes; <see langword="null"/> for a negative colour.</returns>
    /// <exception cref="MpiException">The split failed.</exception>
    public MpiCommunicator? Split(int color, int key, string? name = null)
    {
        IMpiAbi abi = MpiRuntime.Abi;
        nint created = 0;
        using (MpiWatchdog.Enter(_splitWhat))
        {
            MpiRuntime.Check(OpenMpi.MPI_Comm_split(Handle, color < 0 ? abi.Undefined : color, key, &created), "MPI_Comm_split");
        }

        if (created == abi.CommNull || created == 0)
        {
            return null;
        }

        try
        {
            // Split communicators inherit the parent's error handler; set it anyway, the world's could have been changed.
            MpiRuntime.Check(OpenMpi.MPI_Comm_set_errhandler(created, abi.ErrorsReturn), "MPI_Comm_set_errhandler");
            return new MpiCommunicator(created, owned: true, name ?? $"split {color} of {Name}");
        }
        catch (MpiException)
        {
            _ = OpenMpi.MPI_Comm_free(&created);
            throw;
        }
    }

    /// <summary>
    /// Frees the communicator (<c>MPI_Comm_free</c>); later calls throw <see cref="ObjectDisposedException"/>. Does nothing
    /// for <see cref="MpiRuntime.World"/>, and frees nothing after MPI is finalized.
    /// </summary>
    public void Dispose()
    {
        if (!_owned)
        {
            return;
        }

        nint handle = Interlocked.Exchange(ref _handle, 0);
        if (handle != 0 && !MpiRuntime.IsFinalized())
        {
            MpiRuntime.Check(OpenMpi.MPI_Comm_free(&handle), "MPI_Comm_free");
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} (rank {Rank} of {Size})";
}
