using Artifex.Distributed;

namespace Artifex.Cpu.Tests.Distributed;

public sealed class WeightedMeanTests
{
    [Fact]
    public void AllReduceGradientsWeighted_UnequalBatches_EqualsGlobalBatchMean()
    {
        // Device k holds batchSizes[k] samples; its gradient is the mean of its samples' values.
        int[] batchSizes = [1, 2, 3, 6];
        double[][] samples = [.. batchSizes.Select((n, k) => Enumerable.Range(0, n).Select(i => (k * 10.0) + i).ToArray())];
        double globalMean = samples.SelectMany(static s => s).Average();
        using var provider = new CpuProvider(4);
        Mesh mesh = new DeviceMeshManager(provider).CreateDataParallelMesh(axisName: "batch");
        var weighted = new double[4];
        var plain = new double[4];
        provider.RunSpmd(mesh, context =>
        {
            int k = context.DeviceIndex;
            Tree<DeviceArray> grads = Tree.Dict<DeviceArray>(("g", DeviceArray.FromHost(context.Device, (HostArray<double>)HostArray.Scalar(samples[k].Average()))));
            Tree<DeviceArray> w = new DataParallel().AllReduceGradientsWeighted(grads, batchSizes[k]);
            Tree<DeviceArray> m = new DataParallel().AllReduceGradients(grads);
            weighted[k] = w["g"].Value.As<double>().ToArray()[0];
            plain[k] = m["g"].Value.As<double>().ToArray()[0];
            w.DisposeLeaves();
            m.DisposeLeaves();
            grads.DisposeLeaves();
        });
        Assert.All(weighted, v => Assert.Equal(globalMean, v, 12));
        Assert.All(plain, v => Assert.NotEqual(globalMean, v, 3));
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void AllReduceGradientsWeighted_BadWeightsOrOutsideRegion_Throw()
    {
        using var provider = new CpuProvider(2);
        Mesh mesh = new DeviceMeshManager(provider).CreateDataParallelMesh(axisName: "batch");
        using DeviceArray<float> leaf = DeviceArray.FromHost(provider.Devices[0], new HostArray<float>([1f], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataParallel().AllReduceGradientsWeighted(leaf, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataParallel().AllReduceGradientsWeighted(leaf, double.NaN));
        InvalidOperationException unbound = Assert.Throws<InvalidOperationException>(() => new DataParallel().AllReduceGradientsWeighted(leaf, 1));
        Assert.StartsWith("unbound axis name: batch", unbound.Message, StringComparison.Ordinal);
        InvalidOperationException zero = Assert.Throws<InvalidOperationException>(() => provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<float> g = DeviceArray.FromHost(context.Device, new HostArray<float>([1f], 1));
            new DataParallel().AllReduceGradientsWeighted(g, 0).DisposeLeaves();
        }));
        Assert.Contains("sum to zero", zero.Message, StringComparison.Ordinal);
    }
}
