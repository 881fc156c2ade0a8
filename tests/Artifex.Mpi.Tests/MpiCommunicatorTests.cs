namespace Artifex.Mpi.Tests;

/// <summary>The collectives on a world of one (in this process): data movement, in place, chunking, splits, errors.</summary>
[Collection(InProcessMpi.Collection)]
public sealed unsafe class MpiCommunicatorTests
{
    public static TheoryData<Type> ElementTypes => [typeof(float), typeof(double), typeof(int), typeof(long), typeof(byte)];

    [Theory]
    [MemberData(nameof(ElementTypes))]
    public void AllReduce_OnOneRank_CopiesSendToReceive_ForEveryOp(Type type)
    {
        MpiCommunicator world = InProcessMpi.World();
        foreach (ReduceOp op in (ReduceOp[])[ReduceOp.Sum, ReduceOp.Max, ReduceOp.Min])
        {
            byte[] send = Pattern(64 * SizeOf(type));
            var receive = new byte[send.Length];
            fixed (byte* s = send)
            fixed (byte* r = receive)
            {
                world.AllReduce(s, r, 64, type, op);
            }

            Assert.Equal(send, receive);
        }
    }

    [Theory]
    [MemberData(nameof(ElementTypes))]
    public void Collectives_InPlace_OnOneRank_LeaveTheBufferAsItWas(Type type)
    {
        MpiCommunicator world = InProcessMpi.World();
        byte[] expected = Pattern(16 * SizeOf(type));
        byte[] buffer = [.. expected];
        fixed (byte* b = buffer)
        {
            world.AllReduce(null, b, 16, type, ReduceOp.Sum);
            world.AllGather(null, b, 16, type);
            world.ReduceScatterBlock(null, b, 16, type, ReduceOp.Max);
            world.Broadcast(b, 16, type, root: 0);
        }

        Assert.Equal(expected, buffer);
    }

    [Fact]
    public void AllGather_AndReduceScatter_OutOfPlace_OnOneRank_Copy()
    {
        MpiCommunicator world = InProcessMpi.World();
        long[] send = [1L << 40, -2, 3];
        var gathered = new long[3];
        var scattered = new long[3];
        fixed (long* s = send)
        fixed (long* g = gathered)
        fixed (long* r = scattered)
        {
            world.AllGather(s, g, 3, typeof(long));
            world.ReduceScatterBlock(s, r, 3, typeof(long), ReduceOp.Min);
        }

        Assert.Equal(send, gathered);
        Assert.Equal(send, scattered);
    }

    [Fact]
    public void AllReduce_AboveTheCallLimit_GoesInChunks_WithTheRightOffsets()
    {
        using MpiCommunicator comm = InProcessMpi.Private("chunking");
        comm.MaxElementsPerCall = 3;
        double[] send = [.. Enumerable.Range(0, 10).Select(i => i + 0.5)];
        var receive = new double[10];
        fixed (double* s = send)
        fixed (double* r = receive)
        {
            comm.AllReduce(s, r, 10, typeof(double), ReduceOp.Sum);
            comm.Broadcast(r, 10, typeof(double), root: 0);
        }

        Assert.Equal(send, receive);
    }

    [Fact]
    public void ZeroCounts_WithNullBuffers_AreAccepted()
    {
        MpiCommunicator world = InProcessMpi.World();

        world.AllReduce(null, null, 0, typeof(float), ReduceOp.Sum);
        world.AllGather(null, null, 0, typeof(float));
        world.ReduceScatterBlock(null, null, 0, typeof(float), ReduceOp.Sum);
        world.Broadcast(null, 0, typeof(float), root: 0);
    }

    [Fact]
    public void Split_WithColour_GivesCommunicatorOfOne_NamedForTheWatchdog()
    {
        MpiCommunicator world = InProcessMpi.World();

        using MpiCommunicator? named = world.Split(0, 0, "axis 'data'");
        using MpiCommunicator? unnamed = world.Split(3, 0);

        Assert.NotNull(named);
        Assert.Equal((0, 1), (named.Rank, named.Size));
        Assert.Equal("axis 'data'", named.Name);
        Assert.Equal("split 3 of MPI_COMM_WORLD", unnamed?.Name);
        named.Barrier();
    }

    [Fact]
    public void Split_WithNegativeColour_ReturnsNull()
    {
        MpiCommunicator world = InProcessMpi.World();

        Assert.Null(world.Split(-1, 0));
        Assert.Null(world.Split(int.MinValue, 0));
    }

    [Fact]
    public void DisposedCommunicator_Throws_AndDisposesOnce()
    {
        MpiCommunicator comm = InProcessMpi.Private("disposed");

        comm.Dispose();
        comm.Dispose();

        Assert.True(comm.IsDisposed);
        Assert.Throws<ObjectDisposedException>(comm.Barrier);
        Assert.Throws<ObjectDisposedException>(() => comm.Split(0, 0));
    }

    [Fact]
    public void Broadcast_FromBadRoot_ThrowsMpiException_NamingMpiErrRoot()
    {
        MpiCommunicator world = InProcessMpi.World();
        int* value = stackalloc int[] { 5 };

        MpiException error = Assert.Throws<MpiException>(() => world.Broadcast(value, 1, typeof(int), root: 1));

        Assert.Equal(8, error.ErrorCode);
        Assert.Equal("MPI_Bcast", error.Api);
        Assert.StartsWith("MPI_ERR_ROOT", error.ErrorText, StringComparison.Ordinal);
        Assert.Equal("MPI_Bcast failed: MPI_ERR_ROOT: invalid root (error 8)", error.Message);
        Assert.Equal(5, *value);
        world.Barrier(); // the world still works: errors are returned, not fatal
    }

    [Fact]
    public void AllReduce_WithMean_IsRejected_BecauseTheProviderDivides()
    {
        MpiCommunicator world = InProcessMpi.World();
        float* value = stackalloc float[1];

        ArgumentException error = Assert.Throws<ArgumentException>(() => world.AllReduce(null, value, 1, typeof(float), ReduceOp.Mean));

        Assert.Equal("op", error.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => world.AllReduce(null, value, 1, typeof(float), (ReduceOp)99));
    }

    [Fact]
    public void Arguments_AreValidated_BeforeAnyCall()
    {
        MpiCommunicator world = InProcessMpi.World();
        short* unsupported = stackalloc short[1];
        float* value = stackalloc float[1];

        Assert.Equal("elementType", Assert.Throws<ArgumentException>(() => world.AllReduce(null, unsupported, 1, typeof(short), ReduceOp.Sum)).ParamName);
        Assert.Throws<ArgumentNullException>(() => world.AllReduce(null, null, 1, typeof(float), ReduceOp.Sum));
        Assert.Throws<ArgumentNullException>(() => world.Broadcast(null, 1, typeof(float), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => world.AllReduce(null, value, -1, typeof(float), ReduceOp.Sum));
        Assert.Throws<ArgumentOutOfRangeException>(() => world.Broadcast(value, -1, typeof(float), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => world.AllGather(value, value, (long)int.MaxValue + 1, typeof(float)));
        Assert.Throws<ArgumentOutOfRangeException>(() => world.ReduceScatterBlock(value, value, (long)int.MaxValue + 1, typeof(float), ReduceOp.Sum));
    }

    private static int SizeOf(Type type) => type == typeof(double) || type == typeof(long) ? 8 : type == typeof(byte) ? 1 : 4;

    /// <summary>Bytes that are not all equal, so a misplaced element shows.</summary>
    private static byte[] Pattern(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)((i * 37) + 11))];
}
