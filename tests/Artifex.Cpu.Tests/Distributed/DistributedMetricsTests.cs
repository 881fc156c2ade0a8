using Artifex.Distributed;

namespace Artifex.Cpu.Tests.Distributed;

/// <summary>The original's DistributedMetrics tests (spec B.4) through the mock back-end, then with real collectives.</summary>
public sealed class DistributedMetricsTests
{
    [Fact]
    public void PlainReductions_Mocked_ReturnMockValueAndCallOncePerLeafWithAxis()
    {
        using var provider = new CpuProvider(1);
        using DeviceArray<float> three = Scalar(provider, 3f);
        var mock = new RecordingCollectives().Returning("pmean", 2f).Returning("psum", 6f).Returning("pmax", 5f).Returning("pmin", 1f).Returning("all_gather", 1f, 2f);
        var metrics = new DistributedMetrics(mock);
        Tree<DeviceArray> tree = Tree.Dict<DeviceArray>(("loss", three));
        AssertSingle(2f, metrics.ReduceMean(tree, "custom_axis"));
        AssertSingle(6f, metrics.ReduceSum(tree));
        AssertSingle(5f, metrics.ReduceMax(tree));
        AssertSingle(1f, metrics.ReduceMin(tree));
        Tree<DeviceArray> gathered = metrics.AllGather(tree, "my_axis");
        Assert.Equal([1f, 2f], gathered["loss"].Value.As<float>().ToArray());
        gathered.DisposeLeaves();
        Assert.Equal([("pmean", "custom_axis"), ("psum", "batch"), ("pmax", "batch"), ("pmin", "batch"), ("all_gather", "my_axis")], mock.Calls);
        Assert.Equal(1, provider.LiveBufferCount);
    }

    [Fact]
    public void ReduceCustom_MixedOps_EachKeyItsOwnOpMissingKeysAveraged()
    {
        using var provider = new CpuProvider(1);
        using DeviceArray<float> a = Scalar(provider, 3f);
        var mock = new RecordingCollectives().Returning("pmean", 2f).Returning("psum", 6f).Returning("pmax", 4f);
        Tree<DeviceArray> metrics = Tree.Dict<DeviceArray>(("loss", a), ("accuracy", a), ("step", a), ("other", a));
        Tree<DeviceArray> reduced = new DistributedMetrics(mock).ReduceCustom(
            metrics,
            new Dictionary<string, string?>(StringComparer.Ordinal) { ["loss"] = "mean", ["accuracy"] = "sum", ["step"] = "max", ["unused"] = "min" });
        Assert.Equal(2f, Value(reduced["loss"]));
        Assert.Equal(6f, Value(reduced["accuracy"]));
        Assert.Equal(4f, Value(reduced["step"]));
        Assert.Equal(2f, Value(reduced["other"]));
        reduced.DisposeLeaves();
        Tree<DeviceArray> defaulted = DistributedMetrics.ReduceCustomStatic(Tree.Empty<DeviceArray>());
        Assert.True(defaulted.IsEmpty);
        Assert.Equal(1, provider.LiveBufferCount);
    }

    [Fact]
    public void ReduceCustom_UnknownOp_ThrowsNamingOpAndKey()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => new DistributedMetrics(new RecordingCollectives()).ReduceCustom(
            Tree.Empty<DeviceArray>(), new Dictionary<string, string?>(StringComparer.Ordinal) { ["loss"] = "median" }));
        Assert.Contains("Unknown reduce op 'median' for metric 'loss'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void Reductions_RealCollectives_ValuesOnEveryDevice(int n)
    {
        using var provider = new CpuProvider(n);
        Mesh mesh = new DeviceMeshManager(provider).CreateDataParallelMesh(axisName: "batch");
        var rows = new float[n][];
        provider.RunSpmd(mesh, context =>
        {
            float v = context.DeviceIndex + 1;
            Tree<DeviceArray> metrics = Tree.Dict<DeviceArray>(
                ("loss", DeviceArray.FromHost(context.Device, (HostArray<float>)HostArray.Scalar(v))),
                ("nested", Tree.Dict<DeviceArray>(("count", DeviceArray.FromHost(context.Device, (HostArray<float>)HostArray.Scalar(10 * v))))));
            var dm = new DistributedMetrics();
            Tree<DeviceArray> mean = dm.ReduceMean(metrics);
            Tree<DeviceArray> sum = DistributedMetrics.ReduceSumStatic(metrics);
            Tree<DeviceArray> max = dm.ReduceMax(metrics);
            Tree<DeviceArray> min = DistributedMetrics.ReduceMinStatic(metrics);
            Tree<DeviceArray> custom = dm.ReduceCustom(metrics, new Dictionary<string, string?>(StringComparer.Ordinal) { ["loss"] = "max", ["nested"] = "sum" });
            Tree<DeviceArray> gathered = DistributedMetrics.AllGatherStatic(metrics);
            rows[context.DeviceIndex] =
            [
                Value(mean["loss"]), Value(sum["nested"]["count"]), Value(max["loss"]), Value(min["loss"]),
                Value(custom["loss"]), Value(custom["nested"]["count"]), .. gathered["loss"].Value.As<float>().ToArray(),
            ];
            foreach (Tree<DeviceArray> t in new[] { mean, sum, max, min, custom, gathered, metrics })
            {
                t.DisposeLeaves();
            }
        });
        float total = n * (n + 1) / 2f;
        float[] expected = [total / n, 10 * total, n, 1, n, 10 * total, .. Enumerable.Range(1, n).Select(i => (float)i)];
        Assert.All(rows, r => Assert.Equal(expected, r));
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void ReduceMean_TwoByTwoMeshOverData_WithinEachModelCoordinate()
    {
        using var provider = new CpuProvider(4);
        Mesh mesh = new DeviceMeshManager(provider).CreateHybridMesh(2, 2);
        var values = new float[4];
        provider.RunSpmd(mesh, context =>
        {
            Tree<DeviceArray> metrics = Tree.Dict<DeviceArray>(("loss", DeviceArray.FromHost(context.Device, (HostArray<float>)HostArray.Scalar(context.DeviceIndex * 2f))));
            Tree<DeviceArray> mean = new DistributedMetrics().ReduceMean(metrics, "data");
            values[context.DeviceIndex] = Value(mean["loss"]);
            mean.DisposeLeaves();
            metrics.DisposeLeaves();
        });
        Assert.Equal([2f, 4f, 2f, 4f], values);
    }

    [Fact]
    public void CollectFromDevices_StackedArrays_SplitIntoHostValues()
    {
        using var provider = new CpuProvider(3);
        var sharding = new NamedSharding(new Mesh(provider.Devices, ("batch", 3)), new PartitionSpec("batch"));
        Tree<GlobalArray> metrics = Tree.Dict<GlobalArray>(
            ("loss", GlobalArray.DevicePut(new HostArray<float>([1f, 2f, 3f], 3), sharding)),
            ("epoch", GlobalArray.DevicePut((HostArray<int>)HostArray.Scalar(10), new SingleDeviceSharding(provider.Devices[0]))));
        Tree<HostArray> collected = DistributedMetrics.CollectFromDevicesStatic(metrics);
        Assert.Equal(TreeKind.List, collected["loss"].Kind);
        Assert.Equal([1f, 2f, 3f], collected["loss"].Children.Select(c => c.Value.As<float>().ScalarValue));
        Assert.Equal(10, collected["epoch"].Value.As<int>().ScalarValue);
        Assert.Equal(collected["loss"].Children.Length, new DistributedMetrics().CollectFromDevices(metrics)["loss"].Children.Length);
        metrics.DisposeLeaves();
    }

    private static DeviceArray<float> Scalar(DeviceProvider provider, float v) => DeviceArray.FromHost(provider.Devices[0], (HostArray<float>)HostArray.Scalar(v));

    private static float Value(Tree<DeviceArray> leaf) => leaf.Value.As<float>().ToArray()[0];

    private static void AssertSingle(float expected, Tree<DeviceArray> tree)
    {
        Assert.Equal(expected, Value(tree["loss"]));
        tree.DisposeLeaves();
    }
}
