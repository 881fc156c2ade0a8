namespace Artifex.Conformance;

/// <summary>
/// Placement (JAX <c>device_put</c>) and gathering of global arrays and trees: the worked examples of the
/// reference spec C.2–C.4, checked on shard contents, not only shapes.
/// </summary>
public abstract class PlacementConformanceTests : ProviderTestBase
{
    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void DevicePut_DataAxis_EachDeviceHoldsItsRows(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        long rows = 2L * n;
        float[] data = Iota(rows * 3);
        using GlobalArray<float> array = GlobalArray.DevicePut(new HostArray<float>(data, rows, 3), new NamedSharding(mesh, new PartitionSpec("data")));
        Assert.Equal(n, array.Shards.Length);
        for (int k = 0; k < n; k++)
        {
            Shard shard = array.Shards[k];
            Assert.Equal(provider.Devices[k], shard.Device);
            Assert.Equal(new DimensionSlice(2 * k, 2), shard.Index[0]);
            Assert.Equal(new DimensionSlice(0, 3), shard.Index[1]);
            Assert.Equal(0, shard.ReplicaId);
            Assert.Equal(data[(6 * k)..(6 * (k + 1))], array.GetShardData(shard.Device));
        }

        Assert.Equal(data, array.ToArray());
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void DevicePut_Replicated_EveryDeviceHoldsEverything(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        float[] data = Iota(8 * 3);
        using GlobalArray<float> array = GlobalArray.DevicePut(new HostArray<float>(data, 8, 3), new NamedSharding(mesh, PartitionSpec.Replicated));
        Assert.Equal(Enumerable.Range(0, n), array.Shards.Select(s => s.ReplicaId));
        Assert.All(array.Shards, s => Assert.Equal(data, array.GetShardData(s.Device)));
        Assert.True(array.Sharding.IsFullyReplicated);
        Assert.Equal(n, provider.LiveBufferCount);
    });

    [Fact]
    public void DevicePut_TreeWithALeafThatDoesNotSplit_NamesTheCallersParameterAndTheLeaf_AndPlacesNothing() => WithProvider(2, provider =>
    {
        var sharding = new NamedSharding(new Mesh(provider.Devices, ("data", 2)), new PartitionSpec("data"));
        Tree<HostArray> batch = Tree.Dict(("x", HostArray.From(new float[6], 2, 3)), ("y", HostArray.From(new float[3], 3)));

        ArgumentException error = Assert.Throws<ArgumentException>(() => batch.DevicePut(sharding));

        Assert.Equal("tree", error.ParamName);
        Assert.Contains("(leaf: y)", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.LiveBufferCount);
    });

    [Fact]
    public void DevicePut_TwoByTwoDataSpec_RowsSplitOverDataAndReplicatedOverModel() => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2), ("model", 2));
        float[] data = Iota(8 * 3);
        using GlobalArray<float> array = GlobalArray.DevicePut(new HostArray<float>(data, 8, 3), new NamedSharding(mesh, new PartitionSpec("data")));
        int[] replicaIds = [0, 1, 0, 1];
        long[] firstRows = [0, 0, 4, 4];
        for (int k = 0; k < 4; k++)
        {
            Shard shard = array.Shards[k];
            Assert.Equal(replicaIds[k], shard.ReplicaId);
            Assert.Equal(new DimensionSlice(firstRows[k], 4), shard.Index[0]);
            Assert.Equal(data[(int)(firstRows[k] * 3)..(int)((firstRows[k] + 4) * 3)], array.GetShardData(shard.Device));
        }

        Assert.Equal(data, array.ToArray());
    });

    [Fact]
    public void DevicePut_TwoByTwoTupleSpec_RowsSplitOverBothAxesMajorFirst() => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2), ("model", 2));
        float[] data = Iota(8 * 3);
        using GlobalArray<float> array = GlobalArray.DevicePut(new HostArray<float>(data, 8, 3), new NamedSharding(mesh, new PartitionSpec(("data", "model"))));
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(new DimensionSlice(2 * k, 2), array.Shards[k].Index[0]);
            Assert.Equal(0, array.Shards[k].ReplicaId);
            Assert.Equal(data[(6 * k)..(6 * (k + 1))], array.GetShardData(array.Shards[k].Device));
        }

        Assert.Equal(data, array.ToArray());
    });

    [Fact]
    public void DevicePut_TwoByTwoColumnSpec_ColumnsSplitOverModel() => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2), ("model", 2));
        float[] data = Iota(8 * 6);
        using GlobalArray<float> array = GlobalArray.DevicePut(new HostArray<float>(data, 8, 6), new NamedSharding(mesh, new PartitionSpec(null, "model")));
        long[] firstColumns = [0, 3, 0, 3];
        for (int k = 0; k < 4; k++)
        {
            Shard shard = array.Shards[k];
            Assert.Equal(new DimensionSlice(0, 8), shard.Index[0]);
            Assert.Equal(new DimensionSlice(firstColumns[k], 3), shard.Index[1]);
            Assert.Equal(k / 2, shard.ReplicaId);
            float[] expected = [.. Enumerable.Range(0, 8).SelectMany(r => Enumerable.Range((int)firstColumns[k], 3).Select(c => data[(r * 6) + c]))];
            Assert.Equal(expected, array.GetShardData(shard.Device));
        }

        Assert.Equal(data, array.ToArray());
    });

    [Fact]
    public void DevicePut_ThreeDimensionalMiddleSplit_GathersBack() => WithProvider(8, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("a", 2), ("b", 4));
        float[] data = Iota(2 * 8 * 6);
        using GlobalArray<float> array = GlobalArray.DevicePut(new HostArray<float>(data, 2, 8, 6), new NamedSharding(mesh, new PartitionSpec(null, "b", "a")));
        Assert.Equal([2L, 2, 3], array.Shards[0].Shape);
        Assert.Equal(data, array.ToArray());
    });

    [Fact]
    public void DevicePut_ZeroRows_EveryShardIsEmpty() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2));
        using GlobalArray<float> array = GlobalArray.DevicePut(new HostArray<float>([], 0, 5), new NamedSharding(mesh, new PartitionSpec("data")));
        Assert.All(array.Shards, s => Assert.Equal([0L, 5], s.Shape));
        Assert.Empty(array.ToArray());
    });

    [Fact]
    public void DevicePut_Scalar_ReplicatedUnderEmptySpec() => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 4));
        using GlobalArray<long> array = GlobalArray.DevicePut((HostArray<long>)HostArray.Scalar(42L), new NamedSharding(mesh, PartitionSpec.Replicated));
        Assert.Equal(0, array.Rank);
        Assert.All(array.Shards, s => Assert.Equal([42L], array.GetShardData(s.Device)));
        Assert.Equal(42L, array.ToHostArray().As<long>().ScalarValue);
        Assert.Throws<InvalidOperationException>(() => array.ToHost());
    });

    [Fact]
    public void DevicePut_NotDivisible_ThrowsJaxTextAndPlacesNothing() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2));
        var sharding = new NamedSharding(mesh, new PartitionSpec("data"));
        ArgumentException error = Assert.Throws<ArgumentException>(() => GlobalArray.DevicePut(new HostArray<float>(Iota(40), 5, 8), sharding, TreePath.Parse("batch/inputs")));
        Assert.StartsWith("One of device_put args was given the sharding of NamedSharding(mesh=Mesh('data': 2), spec=PartitionSpec('data',)", error.Message, StringComparison.Ordinal);
        Assert.Contains("which implies that the global size of its dimension 0 should be divisible by 2, but it is equal to 5 (full shape: (5, 8))", error.Message, StringComparison.Ordinal);
        Assert.Contains("(leaf: batch/inputs)", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.LiveBufferCount);
    });

    [Fact]
    public void DevicePut_ScalarUnderDataSpec_ThrowsRankText() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2));
        ArgumentException error = Assert.Throws<ArgumentException>(() => GlobalArray.DevicePut(HostArray.Scalar(1f), new NamedSharding(mesh, new PartitionSpec("data"))));
        Assert.Contains("is only valid for values of rank at least 1, but was applied to a value of rank 0. For scalars the PartitionSpec should be P()", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.LiveBufferCount);
    });

    [Fact]
    public void DevicePut_DescriptorDevices_ThrowsNoProvider()
    {
        var mesh = new Mesh([new Device(0, "cpu", "cpu")], ("data", 1));
        ArgumentException error = Assert.Throws<ArgumentException>(() => GlobalArray.DevicePut(new HostArray<float>([1f], 1), new NamedSharding(mesh, new PartitionSpec("data"))));
        Assert.Contains("belongs to no provider", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DevicePut_SingleDeviceSharding_WholeArrayOnThatDevice() => WithProvider(2, provider =>
    {
        int[] data = [1, 2, 3, 4, 5, 6];
        using GlobalArray<int> array = GlobalArray.DevicePut(new HostArray<int>(data, 2, 3), new SingleDeviceSharding(provider.Devices[1]));
        Shard shard = Assert.Single(array.Shards);
        Assert.Equal(provider.Devices[1], shard.Device);
        Assert.Equal(data, array.GetShardData(provider.Devices[1]));
    });

    [Fact]
    public void DevicePut_EveryElementType_RoundTrips() => WithProvider(2, provider =>
    {
        var sharding = new NamedSharding(new Mesh(provider.Devices, ("data", 2)), new PartitionSpec("data"));
        AssertRoundTrip(new HostArray<float>([1.5f, 2.5f, 3.5f, 4.5f], 4), sharding);
        AssertRoundTrip(new HostArray<double>([1.5, 2.5, 3.5, 4.5], 2, 2), sharding);
        AssertRoundTrip(new HostArray<int>([1, 2, 3, 4], 4), sharding);
        AssertRoundTrip(new HostArray<long>([1, 2, long.MaxValue, 4], 4), sharding);
        AssertRoundTrip(new HostArray<Half>([(Half)1, (Half)2, (Half)3, (Half)4], 4), sharding);
        AssertRoundTrip(new HostArray<byte>([1, 2, 3, 4], 2, 2), sharding);
    });

    [Fact]
    public void DevicePut_Tensor_ToHostGivesEqualTensor() => WithProvider(4, provider =>
    {
        var tensor = System.Numerics.Tensors.Tensor.Create(Iota(24), [8, 3]);
        var sharding = new NamedSharding(new Mesh(provider.Devices, ("data", 4)), new PartitionSpec("data"));
        using GlobalArray<float> array = GlobalArray.DevicePut(tensor, sharding);
        System.Numerics.Tensors.Tensor<float> back = array.ToHost();
        Assert.Equal(tensor.Lengths.ToArray(), back.Lengths.ToArray());
        Assert.Equal(Iota(24), back.ToArray());
    });

    [Fact]
    public void TreeDevicePut_MixedElementTypes_KeepsStructureAndSortsKeys() => WithProvider(2, provider =>
    {
        var sharding = new NamedSharding(new Mesh(provider.Devices, ("data", 2)), new PartitionSpec("data"));
        Tree<HostArray> batch = Tree.Dict<HostArray>(
            ("targets", HostArray.From(new int[] { 3, 1, 4, 1 }, 4)),
            ("inputs", HostArray.From(Iota(8), 4, 2)),
            ("extra", Tree.Empty<HostArray>()));
        Tree<GlobalArray> placed = batch.DevicePut(sharding);
        try
        {
            Assert.Equal(["extra", "inputs", "targets"], placed.Keys);
            Assert.True(placed["extra"].IsEmpty);
            Assert.Equal(typeof(float), placed["inputs"].Value.ElementType);
            Assert.Equal(typeof(int), placed["targets"].Value.ElementType);
            var targets = placed["targets"].Value.As<int>();
            Assert.Equal([3, 1], targets.GetShardData(provider.Devices[0]));
            Assert.Equal([4, 1], targets.GetShardData(provider.Devices[1]));
            Tree<HostArray> back = placed.ToHost();
            Assert.Equal(Iota(8), back["inputs"].Value.As<float>().Span.ToArray());
            Assert.Equal([2L], placed["targets"].Value.Shards[0].Shape);
        }
        finally
        {
            placed.DisposeLeaves();
        }
    });

    [Fact]
    public void TreeDevicePut_OneBadLeaf_NamesItsPathAndPlacesNothing() => WithProvider(2, provider =>
    {
        var sharding = new NamedSharding(new Mesh(provider.Devices, ("data", 2)), new PartitionSpec("data"));
        Tree<HostArray> batch = Tree.Dict<HostArray>(
            ("a", HostArray.From(Iota(4), 4)),
            ("b", Tree.Dict<HostArray>(("odd", HostArray.From(Iota(3), 3)))));
        ArgumentException error = Assert.Throws<ArgumentException>(() => batch.DevicePut(sharding));
        Assert.Contains("(leaf: b/odd)", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.LiveBufferCount);
    });

    [Fact]
    public void FromDeviceBuffers_WrapsBuffersAndTakesOwnership() => WithProvider(2, provider =>
    {
        var sharding = new NamedSharding(new Mesh(provider.Devices, ("data", 2)), new PartitionSpec("data"));
        DeviceBuffer first = provider.Allocate<float>(provider.Devices[0], 2);
        DeviceBuffer second = provider.Allocate<float>(provider.Devices[1], 2);
        provider.CopyFromHost<float>([1, 2], first);
        provider.CopyFromHost<float>([3, 4], second);
        using GlobalArray<float> array = GlobalArray.FromDeviceBuffers<float>([4], sharding, [first, second]);
        Assert.Equal([1f, 2, 3, 4], array.ToArray());
        ArgumentException error = Assert.Throws<ArgumentException>(() => GlobalArray.FromDeviceBuffers<float>([4], sharding, [second, first]));
        Assert.Contains($"Buffer 0 must be a live Single[2] buffer on {provider.Devices[0]}", error.Message, StringComparison.Ordinal);
    });

    [Fact]
    public void Dispose_GlobalArray_FreesShardsAndBlocksReads() => WithProvider(4, provider =>
    {
        var sharding = new NamedSharding(new Mesh(provider.Devices, ("data", 4)), PartitionSpec.Replicated);
        GlobalArray<float> array = GlobalArray.DevicePut(new HostArray<float>(Iota(4), 4), sharding);
        Assert.Equal(4, provider.LiveBufferCount);
        array.Dispose();
        array.Dispose();
        Assert.Equal(0, provider.LiveBufferCount);
        Assert.Throws<ObjectDisposedException>(() => array.ToArray());
    });

    private static void AssertRoundTrip<T>(HostArray<T> host, Sharding sharding)
        where T : unmanaged
    {
        using GlobalArray<T> array = GlobalArray.DevicePut(host, sharding);
        Assert.Equal(host.Shape, array.Shape);
        Assert.Equal(host.Span.ToArray(), array.ToArray());
    }
}
