using System.Globalization;
using Artifex.Distributed;

namespace Artifex.Mpi.Worker;

/// <summary>
/// Collectives started without waiting and the gradient reducer across processes: started all-reduces, reduce-scatters
/// and all-gathers give the blocking results; a blocking collective issued after started ones keeps the order; the
/// reducer (copy mode, bucket views, accumulation) gives the bits of the blocking bucketed mean and Half compression a
/// close result. Values are small integers and halves, so every expected result is exact.
/// </summary>
internal sealed class OverlapChecks
{
    private const int Local = 2;
    private static readonly int[] s_lengths = [5, 300_000, 17, 1000, 3];
    private readonly Failures _failures = new();

    public int Run()
    {
        using var provider = new MpiProvider(Local);
        int n = provider.Devices.Count;
        var mesh = new Mesh(provider.Devices, ("data", n));
        provider.RunSpmd(mesh, context => CheckStarted(context, n));
        foreach (bool views in new[] { false, true })
        {
            provider.RunSpmd(mesh, context => CheckReducer(context, views));
        }

        provider.RunSpmd(mesh, CheckAccumulationAndHalf);
        _failures.Check(provider.LiveBufferCount == 0, string.Create(CultureInfo.InvariantCulture, $"{provider.LiveBufferCount} buffers still live at the end"));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rank {provider.ProcessIndex}/{provider.ProcessCount} {_failures.Report("OVERLAP OK")}"));
        return _failures.None ? 0 : 1;
    }

    private static float Value(int rank, int leaf, int i) => ((((i * 31) + (rank * 977) + (leaf * 7)) % 1999) - 999) * 0.5f;

    private void CheckStarted(SpmdContext context, int n)
    {
        int rank = Collectives.AxisIndex("data");
        using DeviceArray<float> x = Fill(context.Device, 4096, k => rank + 1f + k);
        using DeviceArray<float> y = Fill(context.Device, 3, _ => 10f * (rank + 1));
        using DeviceArray<float> input = Fill(context.Device, 8 * n, k => (rank * 100f) + k);
        using DeviceArray<float> block = DeviceArray.Allocate<float>(context.Device, 8);
        using DeviceArray<float> gathered = DeviceArray.Allocate<float>(context.Device, 8 * n);
        CollectiveRequest sum = Collectives.StartAllReduceInPlace(x, ReduceOp.Sum, "data");
        CollectiveRequest scatter = Collectives.StartPsumScatter(input, block, "data");
        Collectives.AllReduceInPlace(y, ReduceOp.Max, "data");
        sum.Wait();
        scatter.Wait();
        Collectives.StartAllGather(block, gathered, "data").Wait();
        float triangle = n * (n + 1) / 2f;
        _failures.Expect(x.ToArray(), k => triangle + (n * k), $"started sum on {context.Device}");
        _failures.Expect(y.ToArray(), _ => 10f * n, $"blocking max after a started sum on {context.Device}");
        _failures.Expect(block.ToArray(), k => Enumerable.Range(0, n).Sum(r => (r * 100f) + (rank * 8) + k), $"started psum_scatter on {context.Device}");
        _failures.Expect(gathered.ToArray(), k => Enumerable.Range(0, n).Sum(r => (r * 100f) + k), $"started all_gather on {context.Device}");
    }

    private void CheckReducer(SpmdContext context, bool views)
    {
        int rank = Collectives.AxisIndex("data");
        Tree<DeviceArray> grads = Gradients(context.Device, rank);
        var options = new GradientReducerOptions { FirstBucketSizeBytes = 64, BucketSizeBytes = 4096, GradientsAsBucketViews = views };
        using GradientReducer reducer = new DataParallel().CreateGradientReducer(grads, "data", options);
        try
        {
            Copy(grads, reducer.Gradients);
            foreach (int leaf in rank % 2 == 0 ? new[] { 4, 3, 2, 1, 0 } : [0, 1, 2, 3, 4])
            {
                reducer.MarkReady(leaf);
            }

            reducer.Finish();
            Tree<DeviceArray> expected = new DataParallel().AllReduceGradients(grads, ReduceOp.Mean, "data");
            CompareBits(expected, reducer.Gradients, $"reducer (views: {views}) on {context.Device}");
            expected.DisposeLeaves();
        }
        finally
        {
            grads.DisposeLeaves();
        }
    }

    private void CheckAccumulationAndHalf(SpmdContext context)
    {
        int rank = Collectives.AxisIndex("data");
        int n = Collectives.AxisSize("data");
        Tree<DeviceArray> grads = Gradients(context.Device, rank);
        var halfOptions = new GradientReducerOptions { Compression = GradientCompression.Half };
        if (context.Device.Provider!.ProcessCount > 1)
        {
            // MPI has no Half reduction: refused when the reducer is made, before any step.
            Exception? refused = Record(() => new DataParallel().CreateGradientReducer(grads, "data", halfOptions).Dispose());
            _failures.Check(refused is NotSupportedException && refused.Message.Contains("MPI has no Half reduction", StringComparison.Ordinal), $"Half compression across processes not refused: {refused}");
            halfOptions = halfOptions with { Compression = GradientCompression.None };
        }

        using GradientReducer half = new DataParallel().CreateGradientReducer(grads, "data", halfOptions);
        using GradientReducer accumulating = new DataParallel().CreateGradientReducer(grads, "data");
        try
        {
            Tree<DeviceArray> exact = new DataParallel().AllReduceGradients(grads, ReduceOp.Mean, "data");
            float[][] mean = [.. exact.Leaves().Select(l => l.As<float>().ToArray())];
            exact.DisposeLeaves();

            // Two identical micro-steps: the mean over devices and micro-steps is the plain mean again (exact: halves).
            for (int micro = 0; micro < 2; micro++)
            {
                using GradientAccumulationScope scope = micro == 0 ? accumulating.NoSync() : default;
                MarkAll(accumulating);
            }

            accumulating.Finish();
            ImmutableLeaves(grads, (leaf, values) => _failures.Expect(values, i => mean[leaf][i], $"accumulated leaf {leaf} on {context.Device}"));
            Fill(grads, rank);
            MarkAll(half);
            half.Finish();
            ImmutableLeaves(grads, (leaf, values) => _failures.Check(
                values.Select((v, i) => Math.Abs(v - mean[leaf][i]) <= (1000f * n * 1e-3f) + 1e-3f).All(static ok => ok),
                $"Half-compressed leaf {leaf} on {context.Device} too far from the mean"));
        }
        finally
        {
            grads.DisposeLeaves();
        }
    }

    private static Exception? Record(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception error)
        {
            return error;
        }
    }

    private static void MarkAll(GradientReducer reducer)
    {
        for (int leaf = s_lengths.Length - 1; leaf >= 0; leaf--)
        {
            reducer.MarkReady(leaf);
        }
    }

    private static void ImmutableLeaves(Tree<DeviceArray> tree, Action<int, float[]> check)
    {
        var leaves = tree.Leaves();
        for (int leaf = 0; leaf < leaves.Length; leaf++)
        {
            check(leaf, leaves[leaf].As<float>().ToArray());
        }
    }

    private void CompareBits(Tree<DeviceArray> expected, Tree<DeviceArray> actual, string what)
    {
        var e = expected.Leaves();
        var a = actual.Leaves();
        for (int leaf = 0; leaf < e.Length; leaf++)
        {
            float[] want = e[leaf].As<float>().ToArray();
            _failures.Expect(a[leaf].As<float>().ToArray(), i => want[i], $"{what}: leaf {leaf}");
        }
    }

    private static Tree<DeviceArray> Gradients(Device device, int rank) =>
        Tree.Dict<DeviceArray>(("g", Tree.List(s_lengths.Select((length, leaf) => (Tree<DeviceArray>)Fill(device, length, i => Value(rank, leaf, i))).ToArray())));

    private static void Fill(Tree<DeviceArray> tree, int rank)
    {
        var leaves = tree.Leaves();
        for (int leaf = 0; leaf < leaves.Length; leaf++)
        {
            leaves[leaf].Buffer.Provider.CopyFromHost<float>([.. Enumerable.Range(0, s_lengths[leaf]).Select(i => Value(rank, leaf, i))], leaves[leaf].Buffer);
        }
    }

    private static void Copy(Tree<DeviceArray> from, Tree<DeviceArray> to)
    {
        var source = from.Leaves();
        var target = to.Leaves();
        for (int leaf = 0; leaf < source.Length; leaf++)
        {
            source[leaf].Buffer.Provider.Copy(source[leaf].Buffer, 0, target[leaf].Buffer, 0, source[leaf].Length);
        }
    }

    private static DeviceArray<float> Fill(Device device, int length, Func<int, float> value) =>
        DeviceArray.FromHost(device, new HostArray<float>([.. Enumerable.Range(0, length).Select(value)], length));
}
