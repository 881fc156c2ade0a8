using Artifex.Distributed;

namespace Artifex.Cpu.Tests.Distributed;

/// <summary>The original's DataParallel tests (spec B.2), then the same behaviours with real collectives.</summary>
public sealed class DataParallelTests
{
    public static TheoryData<int> DeviceCounts => [1, 2, 4, 8];

    [Fact]
    public void CreateDataParallelSharding_DefaultAndCustomAxisAndStatic_SpecIsThatAxis()
    {
        using var provider = new CpuProvider(2);
        var manager = new DeviceMeshManager(provider);
        var dp = new DataParallel();
        Assert.Equal(new PartitionSpec("data"), dp.CreateDataParallelSharding(manager.CreateDataParallelMesh(1)).Spec);
        Assert.Equal(new PartitionSpec("batch"), dp.CreateDataParallelSharding(manager.CreateDeviceMesh(("batch", 1)), "batch").Spec);
        Assert.Equal(new PartitionSpec("data"), DataParallel.CreateDataParallelShardingStatic(manager.CreateDataParallelMesh(2)).Spec);
        Mesh mesh = manager.CreateDataParallelMesh(2);
        Assert.Same(mesh, dp.CreateDataParallelSharding(mesh).Mesh);
    }

    [Fact]
    public void CreateDataParallelSharding_AxisNotInMesh_ThrowsJaxText()
    {
        using var provider = new CpuProvider(1);
        Mesh mesh = new DeviceMeshManager(provider).CreateDataParallelMesh(1);
        ArgumentException error = Assert.Throws<ArgumentException>(() => new DataParallel().CreateDataParallelSharding(mesh, "model"));
        Assert.StartsWith("Resource axis: model of PartitionSpec('model',) is not found in mesh: ('data',).", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void ShardBatch_Dict_ShapesKeptKeysSortedRowsSplit(int n)
    {
        using var provider = new CpuProvider(n);
        var dp = new DataParallel();
        NamedSharding sharding = dp.CreateDataParallelSharding(new DeviceMeshManager(provider).CreateDataParallelMesh());
        float[] inputs = [.. Enumerable.Range(0, 4 * n * 2).Select(i => (float)i)];
        Tree<HostArray> batch = Tree.Dict<HostArray>(
            ("targets", HostArray.From(new int[4 * n], 4 * n)),
            ("inputs", HostArray.From(inputs, 4 * n, 2)),
            ("none", Tree.Empty<HostArray>()));
        Tree<GlobalArray> placed = (n % 2 == 0 ? DataParallel.ShardBatchStatic(batch, sharding) : dp.ShardBatch(batch, sharding));
        try
        {
            Assert.Equal(["inputs", "none", "targets"], placed.Keys);
            Assert.True(placed["none"].IsEmpty);
            Assert.Equal([4L * n, 2], placed["inputs"].Value.Shape);
            Assert.Equal([4L * n], placed["targets"].Value.Shape);
            var x = placed["inputs"].Value.As<float>();
            for (int k = 0; k < n; k++)
            {
                Assert.Equal(inputs[(8 * k)..(8 * (k + 1))], x.GetShardData(provider.Devices[k]));
            }
        }
        finally
        {
            placed.DisposeLeaves();
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void ShardBatch_NotDivisible_NamesLeafPathAndPlacesNothing()
    {
        using var provider = new CpuProvider(2);
        var dp = new DataParallel();
        NamedSharding sharding = dp.CreateDataParallelSharding(new DeviceMeshManager(provider).CreateDataParallelMesh());
        Tree<HostArray> batch = Tree.Dict<HostArray>(
            ("a", HostArray.From(new float[8], 4, 2)),
            ("z", Tree.Dict(("inputs", HostArray.From(new float[40], 5, 8)))));
        ArgumentException error = Assert.Throws<ArgumentException>(() => dp.ShardBatch(batch, sharding));
        Assert.Contains("should be divisible by 2, but it is equal to 5 (full shape: (5, 8))", error.Message, StringComparison.Ordinal);
        Assert.Contains("(leaf: z/inputs)", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void ShardBatch_ScalarLeaf_IsReplicated()
    {
        using var provider = new CpuProvider(2);
        var dp = new DataParallel();
        NamedSharding sharding = dp.CreateDataParallelSharding(new DeviceMeshManager(provider).CreateDataParallelMesh());
        Tree<GlobalArray> placed = dp.ShardBatch(Tree.Dict(("epoch", HostArray.Scalar(5)), ("x", HostArray.From(new float[4], 4))), sharding);
        Assert.True(placed["epoch"].Value.Sharding.IsFullyReplicated);
        Assert.All(placed["epoch"].Value.Shards, s => Assert.Equal([5], placed["epoch"].Value.As<int>().GetShardData(s.Device)));
        placed.DisposeLeaves();
    }

    [Fact]
    public void ShardModelState_ReplicateDefaultAndReplicateParams_EveryDeviceHoldsEverything()
    {
        using var provider = new CpuProvider(4);
        Mesh mesh = new DeviceMeshManager(provider).CreateDataParallelMesh();
        var dp = new DataParallel();
        Tree<HostArray> state = Tree.Dict<HostArray>(("params", Tree.Dict(("layer1", HostArray.From(new float[100], 10, 10)))), ("step", HostArray.Scalar(3L)));
        foreach (Tree<GlobalArray> placed in new[] { dp.ShardModelState(state, mesh), dp.ShardModelState(state, mesh, ParamSharding.Replicate), dp.ReplicateParams(state, mesh) })
        {
            Assert.Equal([10L, 10], placed["params"]["layer1"].Value.Shape);
            Assert.True(placed["params"]["layer1"].Value.Sharding.IsFullyReplicated);
            Assert.Equal(4, placed["step"].Value.Shards.Length);
            placed.DisposeLeaves();
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void ShardModelState_Shard_SplitsDimZeroOverFirstAxisAndReplicatesScalars()
    {
        using var provider = new CpuProvider(4);
        Mesh mesh = new DeviceMeshManager(provider).CreateHybridMesh(2, 2);
        var dp = new DataParallel();
        float[] w = [.. Enumerable.Range(0, 12).Select(i => (float)i)];
        Tree<HostArray> state = Tree.Dict<HostArray>(("w", HostArray.From(w, 4, 3)), ("step", HostArray.Scalar(7)), ("mu", HostArray.From(new float[2], 2)));
        Tree<GlobalArray> placed = dp.ShardModelState(state, mesh, ParamSharding.Shard);
        var weights = placed["w"].Value.As<float>();
        Assert.Equal(new PartitionSpec("data"), ((NamedSharding)weights.Sharding).Spec);
        Assert.Equal(w[..6], weights.GetShardData(mesh[0, 1]));
        Assert.Equal(w[6..], weights.GetShardData(mesh[1, 0]));
        Assert.True(placed["step"].Value.Sharding.IsFullyReplicated);
        placed.DisposeLeaves();
        ArgumentException error = Assert.Throws<ArgumentException>(() => dp.ShardModelState(Tree.Dict(("opt", Tree.Dict(("nu", HostArray.From(new float[3], 3))))), mesh, ParamSharding.Shard));
        Assert.Contains("(leaf: opt/nu)", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => dp.ShardModelState(state, mesh, (ParamSharding)7));
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void AllReduceGradients_MockPmeanAndPsum_CalledOncePerLeafWithAxisName()
    {
        using var provider = new CpuProvider(1);
        using DeviceArray<float> leaf = DeviceArray.FromHost(provider.Devices[0], (HostArray<float>)HostArray.Scalar(4f));
        var mock = new RecordingCollectives().Returning("pmean", 2f).Returning("psum", 8f);
        var dp = new DataParallel(mock, bucketSizeBytes: 0);
        Tree<DeviceArray> mean = dp.AllReduceGradients(leaf, ReduceOp.Mean);
        Tree<DeviceArray> sum = dp.AllReduceGradients(Tree.Dict<DeviceArray>(("a", leaf), ("b", leaf)), "sum", "custom");
        Assert.Equal([2f], mean.Value.As<float>().ToArray());
        Assert.Equal([8f], sum["b"].Value.As<float>().ToArray());
        Assert.Equal([("pmean", "batch"), ("psum", "custom"), ("psum", "custom")], mock.Calls);
        mean.DisposeLeaves();
        sum.DisposeLeaves();
    }

    [Fact]
    public void AllReduceGradients_Bucketed_TheTestDoubleSeesTheProductionPath()
    {
        using var provider = new CpuProvider(1);
        using DeviceArray<float> a = DeviceArray.FromHost(provider.Devices[0], new HostArray<float>([1f, 2f], 2));
        using DeviceArray<float> b = DeviceArray.FromHost(provider.Devices[0], new HostArray<float>([3f, 4f, 5f], 3));
        var mock = new RecordingCollectives().Returning("all_reduce_in_place", 7f);
        Tree<DeviceArray> reduced = new DataParallel(mock).AllReduceGradients(Tree.Dict<DeviceArray>(("a", a), ("b", b)), ReduceOp.Mean, "data");
        Assert.Equal([("axis_size", "data"), ("all_reduce_in_place(Mean, RankOrdered, 5)", "data")], mock.Calls);
        Assert.Equal([7f, 7f], reduced["a"].Value.As<float>().ToArray());
        Assert.Equal([7f, 7f, 7f], reduced["b"].Value.As<float>().ToArray());
        reduced.DisposeLeaves();
        Assert.Equal(2, provider.LiveBufferCount);
    }

    [Fact]
    public void AllReduceGradientsWeighted_GoesThroughTheCollectivesSeam()
    {
        using var provider = new CpuProvider(1);
        using DeviceArray<float> g = DeviceArray.FromHost(provider.Devices[0], new HostArray<float>([1f, 2f], 2));
        var mock = new RecordingCollectives().Returning("all_reduce_in_place", 4f);
        Tree<DeviceArray> reduced = new DataParallel(mock).AllReduceGradientsWeighted(g, weight: 3, "data");
        Assert.Equal([("axis_size", "data"), ("all_reduce_in_place(Sum, RankOrdered, 1)", "data"), ("all_reduce_in_place(Sum, RankOrdered, 2)", "data")], mock.Calls);
        Assert.Equal([1f, 1f], reduced.Value.As<float>().ToArray());
        reduced.DisposeLeaves();
    }

    [Theory]
    [InlineData("invalid")]
    [InlineData("Mean")]
    [InlineData("max")]
    [InlineData(null)]
    public void AllReduceGradients_UnsupportedString_ThrowsBeforeAnyCollective(string? reduceType)
    {
        var mock = new RecordingCollectives();
        ArgumentException error = Assert.Throws<ArgumentException>(() => new DataParallel(mock).AllReduceGradients(Tree.Empty<DeviceArray>(), reduceType!));
        Assert.StartsWith($"Unsupported reduce_type: {reduceType ?? "None"}. Use 'mean' or 'sum'.", error.Message, StringComparison.Ordinal);
        Assert.Empty(mock.Calls);
    }

    [Fact]
    public void AllReduceGradients_MaxOrUndefined_ThrowsEvenOutsideRegion()
    {
        using var provider = new CpuProvider(1);
        using DeviceArray<float> leaf = DeviceArray.FromHost(provider.Devices[0], new HostArray<float>([1f], 1));
        ArgumentException error = Assert.Throws<ArgumentException>(() => new DataParallel().AllReduceGradients(leaf, ReduceOp.Max));
        Assert.StartsWith("Unsupported reduce_type: Max. Use 'mean' or 'sum'.", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => DataParallel.AllReduceGradientsStatic(leaf, (ReduceOp)9));
    }

    [Fact]
    public void AllReduceGradients_OutsideRegion_ThrowsUnboundBatch()
    {
        using var provider = new CpuProvider(1);
        using DeviceArray<float> leaf = DeviceArray.FromHost(provider.Devices[0], new HostArray<float>([1f], 1));
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => new DataParallel().AllReduceGradients(leaf));
        Assert.StartsWith("unbound axis name: batch", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => new DataParallel(AmbientCollectives.Instance, 0).AllReduceGradients(leaf));
        Assert.Equal(1, provider.LiveBufferCount);
    }

    [Fact]
    public void AllReduceGradients_EmptyTree_ReturnedUnchangedWithoutCollective()
    {
        var mock = new RecordingCollectives();
        Tree<DeviceArray> empty = Tree.Dict<DeviceArray>(("a", Tree.Empty<DeviceArray>()));
        Assert.Same(empty, new DataParallel(mock).AllReduceGradients(empty));
        Assert.Same(empty, DataParallel.AllReduceGradientsStatic(empty));
        Assert.Empty(mock.Calls);
    }

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void AllReduceGradients_RealCollectives_MeanAndSumOnEveryDevice(int n)
    {
        using var provider = new CpuProvider(n);
        Mesh mesh = new DeviceMeshManager(provider).CreateDataParallelMesh(axisName: "batch");
        var means = new float[n][];
        var sums = new float[n][];
        provider.RunSpmd(mesh, context =>
        {
            float v = context.DeviceIndex + 1;
            Tree<DeviceArray> grads = Gradients(context.Device, v);
            Tree<DeviceArray> mean = DataParallel.AllReduceGradientsStatic(grads, "mean");
            Tree<DeviceArray> sum = new DataParallel().AllReduceGradients(grads, ReduceOp.Sum);
            means[context.DeviceIndex] = Flatten(mean);
            sums[context.DeviceIndex] = Flatten(sum);
            mean.DisposeLeaves();
            sum.DisposeLeaves();
            grads.DisposeLeaves();
        });
        float total = n * (n + 1) / 2f;
        Assert.All(means, m => Assert.Equal(Flatten(total / n), m));
        Assert.All(sums, s => Assert.Equal(Flatten(total), s));
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void AllReduceGradients_TwoByTwoMeshOverData_ReducesWithinModelCoordinate()
    {
        using var provider = new CpuProvider(4);
        Mesh mesh = new DeviceMeshManager(provider).CreateHybridMesh(2, 2);
        var results = new float[4];
        provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<float> g = DeviceArray.FromHost(context.Device, new HostArray<float>([context.DeviceIndex + 1f], 1));
            Tree<DeviceArray> mean = new DataParallel().AllReduceGradients(g, ReduceOp.Mean, "data");
            results[context.DeviceIndex] = mean.Value.As<float>().ToArray()[0];
            mean.DisposeLeaves();
        });
        Assert.Equal([2f, 3f, 2f, 3f], results);
    }

    [Fact]
    public void AllReduceGradients_Bucketed_BitwiseIdenticalToPerLeaf()
    {
        using var provider = new CpuProvider(4);
        Mesh mesh = new DeviceMeshManager(provider).CreateDataParallelMesh(axisName: "batch");
        var perLeaf = new int[4][];
        var oneBucket = new int[4][];
        var smallBuckets = new int[4][];
        provider.RunSpmd(mesh, context =>
        {
            var shapes = new Random(42);
            var random = new Random(context.DeviceIndex);
            Tree<DeviceArray> grads = Tree.Dict<DeviceArray>(Enumerable.Range(0, 40).Select(i =>
            {
                int length = 1 + shapes.Next(3000);
                float[] values = [.. Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-4, 7))))];
                return KeyValuePair.Create($"p{i:00}", Tree.Leaf<DeviceArray>(DeviceArray.FromHost(context.Device, new HostArray<float>(values, length))));
            }));
            int r = context.DeviceIndex;
            perLeaf[r] = Bits(new DataParallel(AmbientCollectives.Instance, bucketSizeBytes: 0).AllReduceGradients(grads, ReduceOp.Mean));
            oneBucket[r] = Bits(new DataParallel().AllReduceGradients(grads, ReduceOp.Mean));
            smallBuckets[r] = Bits(new DataParallel(AmbientCollectives.Instance, bucketSizeBytes: 4096).AllReduceGradients(grads, ReduceOp.Mean));
            grads.DisposeLeaves();
        });
        for (int r = 0; r < 4; r++)
        {
            Assert.Equal(perLeaf[0], perLeaf[r]);
            Assert.Equal(perLeaf[0], oneBucket[r]);
            Assert.Equal(perLeaf[0], smallBuckets[r]);
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    private static Tree<DeviceArray> Gradients(Device device, float v) => Tree.Dict<DeviceArray>(
        ("dense", Tree.Dict<DeviceArray>(
            ("bias", DeviceArray.FromHost(device, new HostArray<float>([v, 2 * v], 2))),
            ("kernel", DeviceArray.FromHost(device, new HostArray<float>([v, -v, 0.5f * v, 3 * v], 2, 2))))),
        ("scale", DeviceArray.FromHost(device, (HostArray<float>)HostArray.Scalar(v))));

    private static float[] Flatten(Tree<DeviceArray> tree) => [.. tree.Leaves().SelectMany(static l => l.As<float>().ToArray())];

    private static float[] Flatten(float v) => [v, 2 * v, v, -v, 0.5f * v, 3 * v, v];

    private static int[] Bits(Tree<DeviceArray> tree)
    {
        int[] bits = [.. Flatten(tree).Select(BitConverter.SingleToInt32Bits)];
        tree.DisposeLeaves();
        return bits;
    }
}
