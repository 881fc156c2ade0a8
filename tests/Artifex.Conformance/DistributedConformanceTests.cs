using Artifex.Distributed;

namespace Artifex.Conformance;

/// <summary>
/// The Distributed layer (DataParallel with its gradient buckets, the weighted mean, reproducible reduction,
/// DistributedMetrics) on every provider: it is written only against the contract, and these tests make that a fact.
/// Values are small integers or halves, so every expected result is exact whatever order a provider sums in.
/// </summary>
public abstract class DistributedConformanceTests : ProviderTestBase
{
    /// <summary>Leaf sizes around the bucketing thresholds: tiny leaves share a bucket, a 1 MiB leaf goes alone.</summary>
    private static readonly (string Name, int Length)[] s_leaves = [("a", 1), ("b", 7), ("c", 1000), ("d", 1 << 18), ("e", 3)];

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void AllReduceGradients_BucketedAndLeafByLeaf_ExactMeanAndSum_SameBits(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("batch", n));
        var bucketed = new float[n][][];
        var leafByLeaf = new float[n][][];
        var sums = new float[n][][];
        provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            Tree<DeviceArray> grads = Gradients(context.Device, r);
            try
            {
                bucketed[r] = Read(new DataParallel().AllReduceGradients(grads));
                leafByLeaf[r] = Read(new DataParallel(AmbientCollectives.Instance, bucketSizeBytes: 0).AllReduceGradients(grads));
                sums[r] = Read(new DataParallel().AllReduceGradients(grads, ReduceOp.Sum));
            }
            finally
            {
                grads.DisposeLeaves();
            }
        });

        for (int r = 0; r < n; r++)
        {
            for (int leaf = 0; leaf < s_leaves.Length; leaf++)
            {
                float[] expectedSum = [.. Enumerable.Range(0, s_leaves[leaf].Length).Select(i => Enumerable.Range(0, n).Sum(k => Value(k, leaf, i)))];
                Assert.Equal(expectedSum, sums[r][leaf]);
                Assert.Equal([.. expectedSum.Select(s => s / n)], bucketed[r][leaf]);
                Assert.Equal(bucketed[r][leaf], leafByLeaf[r][leaf]);
            }
        }
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void AllReduceGradientsInPlace_LeavesTheBitsOfTheOutOfPlaceResult_InTheGradientsOwnMemory(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("batch", n));
        var outOfPlace = new float[n][][];
        var bucketed = new float[n][][];
        var leafByLeaf = new float[n][][];
        provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            Tree<DeviceArray> grads = Gradients(context.Device, r);
            Tree<DeviceArray> again = Gradients(context.Device, r);
            try
            {
                outOfPlace[r] = Read(new DataParallel().AllReduceGradients(grads));
                new DataParallel().AllReduceGradientsInPlace(grads);
                bucketed[r] = [.. grads.Leaves().Select(static g => g.As<float>().ToArray())];
                new DataParallel(AmbientCollectives.Instance, bucketSizeBytes: 0).AllReduceGradientsInPlace(again);
                leafByLeaf[r] = [.. again.Leaves().Select(static g => g.As<float>().ToArray())];
            }
            finally
            {
                grads.DisposeLeaves();
                again.DisposeLeaves();
            }
        });

        for (int r = 0; r < n; r++)
        {
            Assert.Equal(outOfPlace[r], bucketed[r]);
            Assert.Equal(outOfPlace[r], leafByLeaf[r]);
        }

        Assert.Throws<ArgumentException>(() => new DataParallel().AllReduceGradientsInPlace(Tree.Empty<DeviceArray>(), ReduceOp.Max));
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void AllReduceGradientsWeighted_UnequalWeights_IsTheWeightedMean(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("batch", n));
        var results = new float[n][];
        provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            using DeviceArray<float> g = DeviceArray.FromHost(context.Device, new HostArray<float>([r + 1f, 2f * (r + 1)], 2));
            Tree<DeviceArray> mean = new DataParallel().AllReduceGradientsWeighted(g, weight: r + 1);
            results[r] = mean.Value.As<float>().ToArray();
            mean.DisposeLeaves();
        });

        // Σ w·g / Σ w with w = g = r + 1: Σ (r+1)² / Σ (r+1), exactly representable for these n.
        float squares = Enumerable.Range(1, n).Sum(static v => (float)(v * v));
        float weights = Enumerable.Range(1, n).Sum(static v => (float)v);
        Assert.All(results, r => Assert.Equal([squares / weights, 2 * squares / weights], r));
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void AllReduceGradients_Reproducible_DependsOnlyOnTheValuesNotOnWhichDeviceHoldsThem(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("batch", n));
        var forward = new float[n][];
        var reversed = new float[n][];
        float[][] values = [.. Enumerable.Range(0, n).Select(static r => new[] { 0.1f * (r + 1), -1e-3f * r, 3e5f / (r + 1), 1f / 3 })];
        provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            forward[r] = Reduce(context.Device, values[r]);
            reversed[r] = Reduce(context.Device, values[n - 1 - r]);
        });

        Assert.All(reversed, r => Assert.Equal(forward[0], r));
        Assert.All(forward, r => Assert.Equal(forward[0], r));

        static float[] Reduce(Device device, float[] value)
        {
            using DeviceArray<float> g = DeviceArray.FromHost(device, new HostArray<float>(value, value.Length));
            Tree<DeviceArray> mean = new DataParallel().AllReduceGradients(g, ReduceOp.Mean, "batch", Determinism.Reproducible);
            float[] result = mean.Value.As<float>().ToArray();
            mean.DisposeLeaves();
            return result;
        }
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void DistributedMetrics_EveryReduction_Exact(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("batch", n));
        var results = new float[n][][];
        provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            using DeviceArray<float> loss = DeviceArray.FromHost(context.Device, (HostArray<float>)HostArray.Scalar(r + 1f));
            Tree<DeviceArray> metrics = Tree.Dict<DeviceArray>(("loss", loss));
            var dm = new DistributedMetrics();
            Tree<DeviceArray>[] reduced = [dm.ReduceMean(metrics), dm.ReduceSum(metrics), dm.ReduceMax(metrics), dm.ReduceMin(metrics), dm.AllGather(metrics)];
            results[r] = [.. reduced.Select(static t => t["loss"].Value.As<float>().ToArray())];
            foreach (Tree<DeviceArray> t in reduced)
            {
                t.DisposeLeaves();
            }
        });

        float sum = n * (n + 1) / 2f;
        Assert.All(results, r =>
        {
            Assert.Equal([sum / n], r[0]);
            Assert.Equal([sum], r[1]);
            Assert.Equal([(float)n], r[2]);
            Assert.Equal([1f], r[3]);
            Assert.Equal([.. Enumerable.Range(1, n).Select(static v => (float)v)], r[4]);
        });
    });

    /// <summary>Device <paramref name="rank"/>'s element <paramref name="i"/> of leaf <paramref name="leaf"/>: a small integer.</summary>
    private static float Value(int rank, int leaf, int i) => ((rank + 1) * (leaf + 1)) + (i % 13);

    private static Tree<DeviceArray> Gradients(Device device, int rank) =>
        Tree.Dict<DeviceArray>([.. s_leaves.Select((leaf, k) => (leaf.Name, (DeviceArray)DeviceArray.FromHost(
            device, new HostArray<float>([.. Enumerable.Range(0, leaf.Length).Select(i => Value(rank, k, i))], leaf.Length))))]);

    private static float[][] Read(Tree<DeviceArray> reduced)
    {
        float[][] values = [.. s_leaves.Select(leaf => reduced[leaf.Name].Value.As<float>().ToArray())];
        reduced.DisposeLeaves();
        return values;
    }
}
