using Artifex.Distributed;
using Artifex.Testing;

namespace Artifex.Cpu.Tests.Distributed;

/// <summary>
/// The reducer's scheduling, behind a test double that makes every bucket's all-reduce slow, as a slower interconnect
/// would: a bucket starts as soon as its gradients are ready, before the next layer's backward pass runs, and the result
/// is still the plain mean. Only the order of events is asserted; what overlap buys in time is measured by the
/// benchmarks.
/// </summary>
public sealed class GradientOverlapTests
{
    [Fact]
    public void Reducer_BehindASlowLink_StartsLayerTwosBucketBeforeLayerOnesBackward_AndFinishesWithTheMean()
    {
        using var provider = new CpuProvider(2);
        var mesh = new Mesh(provider.Devices, ("batch", 2));
        var latency = new LatencyCollectives(TimeSpan.FromMilliseconds(30));
        var results = new float[2][];
        provider.RunSpmd(mesh, context =>
        {
            int rank = context.DeviceIndex;
            using DeviceArray<float> layer1 = DeviceArray.FromHost(context.Device, new HostArray<float>([.. Enumerable.Repeat(rank + 1f, 300_000)], 300_000));
            using DeviceArray<float> layer2 = DeviceArray.FromHost(context.Device, new HostArray<float>([10f * (rank + 1), 20f * (rank + 1)], 2));
            Tree<DeviceArray> gradients = Tree.Dict<DeviceArray>(("layer1", layer1), ("layer2", layer2));
            using GradientReducer reducer = new DataParallel(latency).CreateGradientReducer(gradients);
            Assert.Equal(2, reducer.BucketCount);

            // The backward pass produces layer 2's gradients first.
            reducer.MarkReady(1);
            latency.Mark(context.Device, "layer 1 backward");
            reducer.MarkReady(0);
            reducer.Finish();
            results[rank] = [layer1.ToArray()[0], .. layer2.ToArray()];
        });

        foreach (Device device in provider.Devices)
        {
            string[] events = [.. latency.Events.Where(e => e.Device == device).Select(e => e.Event)];
            Assert.Equal(["start 2", "layer 1 backward", "start 300000"], events);
        }

        Assert.All(results, r => Assert.Equal([1.5f, 15f, 30f], r));
    }
}
