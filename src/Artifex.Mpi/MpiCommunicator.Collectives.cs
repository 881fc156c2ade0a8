using Artifex.Mpi.Interop;

namespace Artifex.Mpi;

// The collectives, on raw memory.
public sealed unsafe partial class MpiCommunicator
{
    /// <summary>
    /// Combines <paramref name="count"/> elements element-wise across all members (<c>MPI_Allreduce</c>); every member
    /// receives the result. Buffers above <see cref="int.MaxValue"/> elements go in consecutive calls.
    /// </summary>
    /// <param name="send">This member's input, or <see langword="null"/> to reduce in place (input read from <paramref name="receive"/>).</param>
    /// <param name="receive">The result, <paramref name="count"/> elements.</param>
    /// <param name="count">The element count (equal on every member).</param>
    /// <param name="elementType"><see cref="float"/>, <see cref="double"/>, <see cref="int"/>, <see cref="long"/> or <see cref="byte"/>.</param>
    /// <param name="op"><see cref="ReduceOp.Sum"/>, <see cref="ReduceOp.Max"/> or <see cref="ReduceOp.Min"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="elementType"/> is another type, or <paramref name="op"/> is <see cref="ReduceOp.Mean"/> (sum, then divide by <see cref="Size"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative, or <paramref name="op"/> is undefined.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="receive"/> is null while <paramref name="count"/> is positive.</exception>
    /// <exception cref="MpiException">The call failed.</exception>
    public void AllReduce(void* send, void* receive, long count, Type elementType, ReduceOp op) =>
        AllReduce(send, receive, count, ElementTypes.FromType(elementType, nameof(elementType)), op);

    /// <summary>The same, with the element type as an <see cref="MpiElementType"/>.</summary>
    internal void AllReduce(void* send, void* receive, long count, MpiElementType elementType, ReduceOp op)
    {
        IMpiAbi abi = MpiRuntime.Abi;
        nint type = abi.DataType(elementType);
        nint operation = abi.Op(op);
        RequireBuffer(receive, count, nameof(receive));
        nint comm = Handle;
        int size = ElementTypes.SizeOf(elementType);
        using MpiCollectiveScope scope = MpiWatchdog.Enter(_allReduceWhat);
        long offset = 0;
        do
        {
            int chunk = NextChunk(count, offset);
            void* input = send is null ? (void*)abi.InPlace : (byte*)send + (offset * size);
            MpiRuntime.Check(OpenMpi.MPI_Allreduce(input, (byte*)receive + (offset * size), chunk, type, operation, comm), "MPI_Allreduce");
            offset += chunk;
        }
        while (offset < count);
    }

    /// <summary>
    /// Gathers <paramref name="countPerRank"/> elements from every member into every member's <paramref name="receive"/>,
    /// in rank order (<c>MPI_Allgather</c>): rank r's block lands at element <c>r * countPerRank</c>.
    /// </summary>
    /// <param name="send">This member's block, or <see langword="null"/> for in place (the block already sits at its place in <paramref name="receive"/>).</param>
    /// <param name="receive">The gathered blocks, <see cref="Size"/> × <paramref name="countPerRank"/> elements.</param>
    /// <param name="countPerRank">The elements each member contributes, at most <see cref="int.MaxValue"/>.</param>
    /// <param name="elementType"><see cref="float"/>, <see cref="double"/>, <see cref="int"/>, <see cref="long"/> or <see cref="byte"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="countPerRank"/> is negative or above <see cref="int.MaxValue"/>.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="receive"/> is null while <paramref name="countPerRank"/> is positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="elementType"/> is another type.</exception>
    /// <exception cref="MpiException">The call failed.</exception>
    public void AllGather(void* send, void* receive, long countPerRank, Type elementType) =>
        AllGather(send, receive, countPerRank, ElementTypes.FromType(elementType, nameof(elementType)));

    /// <summary>The same, with the element type as an <see cref="MpiElementType"/>.</summary>
    internal void AllGather(void* send, void* receive, long countPerRank, MpiElementType elementType)
    {
        IMpiAbi abi = MpiRuntime.Abi;
        nint type = abi.DataType(elementType);
        int count = PerRankCount(countPerRank);
        RequireBuffer(receive, countPerRank, nameof(receive));
        nint comm = Handle;
        using MpiCollectiveScope scope = MpiWatchdog.Enter(_allGatherWhat);
        void* input = send is null ? (void*)abi.InPlace : send;
        MpiRuntime.Check(OpenMpi.MPI_Allgather(input, count, type, receive, count, type, comm), "MPI_Allgather");
    }

    /// <summary>
    /// Reduces <see cref="Size"/> × <paramref name="countPerRank"/> elements element-wise across all members, and leaves
    /// block r of the result on rank r (<c>MPI_Reduce_scatter_block</c>).
    /// </summary>
    /// <param name="send">This member's input, <see cref="Size"/> × <paramref name="countPerRank"/> elements; <see langword="null"/> for in place (input read from <paramref name="receive"/>, which must then hold that many, and the result is its first block).</param>
    /// <param name="receive">This member's block of the result, <paramref name="countPerRank"/> elements.</param>
    /// <param name="countPerRank">The elements each member receives, at most <see cref="int.MaxValue"/>.</param>
    /// <param name="elementType"><see cref="float"/>, <see cref="double"/>, <see cref="int"/>, <see cref="long"/> or <see cref="byte"/>.</param>
    /// <param name="op"><see cref="ReduceOp.Sum"/>, <see cref="ReduceOp.Max"/> or <see cref="ReduceOp.Min"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="elementType"/> is another type, or <paramref name="op"/> is <see cref="ReduceOp.Mean"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="countPerRank"/> is negative or above <see cref="int.MaxValue"/>.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="receive"/> is null while <paramref name="countPerRank"/> is positive.</exception>
    /// <exception cref="MpiException">The call failed.</exception>
    public void ReduceScatterBlock(void* send, void* receive, long countPerRank, Type elementType, ReduceOp op) =>
        ReduceScatterBlock(send, receive, countPerRank, ElementTypes.FromType(elementType, nameof(elementType)), op);

    /// <summary>The same, with the element type as an <see cref="MpiElementType"/>.</summary>
    internal void ReduceScatterBlock(void* send, void* receive, long countPerRank, MpiElementType elementType, ReduceOp op)
    {
        IMpiAbi abi = MpiRuntime.Abi;
        nint type = abi.DataType(elementType);
        nint operation = abi.Op(op);
        int count = PerRankCount(countPerRank);
        RequireBuffer(receive, countPerRank, nameof(receive));
        nint comm = Handle;
        using MpiCollectiveScope scope = MpiWatchdog.Enter(_reduceScatterWhat);
        void* input = send is null ? (void*)abi.InPlace : send;
        MpiRuntime.Check(OpenMpi.MPI_Reduce_scatter_block(input, receive, count, type, operation, comm), "MPI_Reduce_scatter_block");
    }

    /// <summary>
    /// Copies <paramref name="count"/> elements from <paramref name="root"/>'s buffer into every member's
    /// (<c>MPI_Bcast</c>). Buffers above <see cref="int.MaxValue"/> elements go in consecutive calls.
    /// </summary>
    /// <param name="buffer">The data on the root; the destination elsewhere.</param>
    /// <param name="count">The element count (equal on every member).</param>
    /// <param name="elementType"><see cref="float"/>, <see cref="double"/>, <see cref="int"/>, <see cref="long"/> or <see cref="byte"/>.</param>
    /// <param name="root">The rank that sends (equal on every member); MPI checks it (<c>MPI_ERR_ROOT</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="buffer"/> is null while <paramref name="count"/> is positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="elementType"/> is another type.</exception>
    /// <exception cref="MpiException">The call failed, e.g. <c>MPI_ERR_ROOT</c> for a root outside 0 to <see cref="Size"/> - 1.</exception>
    public void Broadcast(void* buffer, long count, Type elementType, int root) =>
        Broadcast(buffer, count, ElementTypes.FromType(elementType, nameof(elementType)), root);

    /// <summary>The same, with the element type as an <see cref="MpiElementType"/>.</summary>
    internal void Broadcast(void* buffer, long count, MpiElementType elementType, int root)
    {
        nint type = MpiRuntime.Abi.DataType(elementType);
        RequireBuffer(buffer, count, nameof(buffer));
        nint comm = Handle;
        int size = ElementTypes.SizeOf(elementType);
        using MpiCollectiveScope scope = MpiWatchdog.Enter(_broadcastWhat);
        long offset = 0;
        do
        {
            int chunk = NextChunk(count, offset);
            MpiRuntime.Check(OpenMpi.MPI_Bcast((byte*)buffer + (offset * size), chunk, type, root, comm), "MPI_Bcast");
            offset += chunk;
        }
        while (offset < count);
    }

    /// <summary>Returns once every member has entered the barrier (<c>MPI_Barrier</c>).</summary>
    /// <exception cref="MpiException">The call failed.</exception>
    public void Barrier()
    {
        nint comm = Handle;
        using MpiCollectiveScope scope = MpiWatchdog.Enter(_barrierWhat);
        MpiRuntime.Check(OpenMpi.MPI_Barrier(comm), "MPI_Barrier");
    }

    private static void RequireBuffer(void* buffer, long count, string parameterName)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count, nameof(count));
        if (buffer is null && count > 0)
        {
            throw new ArgumentNullException(parameterName, "The buffer is null but the count is positive.");
        }
    }

    private static int PerRankCount(long countPerRank)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(countPerRank);
        return countPerRank <= int.MaxValue
            ? (int)countPerRank
            : throw new ArgumentOutOfRangeException(nameof(countPerRank), countPerRank, "OpenMPI 4.1 takes int counts and a rank-major gather or scatter cannot be split into independent calls: move at most int.MaxValue elements per rank per call.");
    }

    /// <summary>The element count of the call that starts at <paramref name="offset"/> (one call of 0 for an empty buffer).</summary>
    private int NextChunk(long count, long offset) => (int)Math.Min(count - offset, Math.Min(MaxElementsPerCall, int.MaxValue));
}
