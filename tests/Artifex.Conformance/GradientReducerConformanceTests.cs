using Artifex.Distributed;

namespace Artifex.Conformance;

/// <summary>
/// <see cref="GradientReducer"/> on every provider: the bits of <see cref="DataParallel.AllReduceGradients(Tree{DeviceArray}, ReduceOp, string)"/>
/// whatever order the gradients become ready in, with the caller's arrays or bucket views; accumulation; Half compression;
/// refusals; and a steady state that allocates nothing.
/// </summary>
public abstract class GradientReducerConformanceTests : ProviderTestBase
{
    /// <summary>Leaf lengths: a large leaf between small ones, so the default plan has several buckets.</summary>
    private static readonly int[] s_lengths = [5, 300_000, 17, 1000, 3];

    /// <summary>Small caps, so even small trees have several buckets.</summary>
    private static readonly GradientReducerOptions s_smallBuckets = new() { FirstBucketSizeBytes = 64, BucketSizeBytes = 4096 };

    public static TheoryData<int, bool> DevicesAndViews => new() { { 1, false }, { 2, false }, { 2, true }, { 4, true }, { 8, false } };

    [Theory]
    [MemberData(nameof(DevicesAndViews))]
    public void Finish_AnyReadyOrderPerParticipant_SameBitsAsAllReduceGradients(int n, bool views) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("batch", n));
        var reduced = new float[n][][];
        var expected = new float[n][][];
        provider.RunSpmd(mesh, context =>
        {
            int rank = context.DeviceIndex;
            Tree<DeviceArray> grads = Gradients(context.Device, rank, step: 0);
            using GradientReducer reducer = new DataParallel().CreateGradientReducer(grads, options: s_smallBuckets with { GradientsAsBucketViews = views });
            try
            {
                Assert.True(reducer.BucketCount > 2);
                for (int step = 0; step < 3; step++)
                {
                    Fill(reducer.Gradients, rank, step);

                    // Each participant marks in its own order: the reducer still starts buckets in one order everywhere.
                    foreach (int leaf in ReadyOrder(s_lengths.Length, rank + step))
                    {
                        reducer.MarkReady(leaf);
                    }

                    reducer.Finish();
                }

                reduced[rank] = Read(reducer.Gradients);
                Fill(grads, rank, 2);
                Tree<DeviceArray> reference = new DataParallel().AllReduceGradients(grads);
                expected[rank] = Read(reference);
                reference.DisposeLeaves();
            }
            finally
            {
                grads.DisposeLeaves();
            }
        });

        for (int r = 0; r < n; r++)
        {
            AssertBits(expected[r], reduced[r]);
        }
    });

    [Fact]
    public void Plan_ReverseRegistrationOrder_FirstBucketSmall() => WithProvider(1, provider =>
    {
        Tree<DeviceArray> grads = Gradients(provider.Devices[0], 0, 0);
        try
        {
            // Leaves 5, 300000, 17, 1000, 3 floats; first bucket ≤ 64 bytes, others ≤ 4096 bytes, reversed.
            using GradientReducer reducer = new DataParallel().CreateGradientReducer(grads, options: s_smallBuckets);
            // 12 bytes fill the first bucket; 4000 + 68 fit the next; the 1.2 MB leaf and the last one go alone.
            Assert.Equal([0, 1, 1, 2, 3], new[] { 4, 3, 2, 1, 0 }.Select(reducer.GetBucket));
            Assert.Equal(4, reducer.BucketCount);

            // The defaults: the small leaves in the first bucket (1 MiB), the rest in a second one (25 MiB).
            using GradientReducer defaults = new DataParallel().CreateGradientReducer(grads);
            Assert.Equal([0, 0, 0, 1, 1], new[] { 4, 3, 2, 1, 0 }.Select(defaults.GetBucket));
        }
        finally
        {
            grads.DisposeLeaves();
        }
    });

    [Theory]
    [InlineData(2, false)]
    [InlineData(4, false)]
    [InlineData(2, true)]
    public void NoSync_ThreeMicroSteps_MeanOverDevicesAndMicroSteps(int n, bool views) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("batch", n));
        var reduced = new float[n][][];
        var expected = new float[n][][];
        provider.RunSpmd(mesh, context =>
        {
            int rank = context.DeviceIndex;
            Tree<DeviceArray> grads = Gradients(context.Device, rank, 0);
            Tree<DeviceArray> sum = Gradients(context.Device, rank, 0);
            using GradientReducer reducer = new DataParallel().CreateGradientReducer(grads, options: s_smallBuckets with { GradientsAsBucketViews = views });
            try
            {
                for (int micro = 0; micro < 3; micro++)
                {
                    using GradientAccumulationScope scope = micro < 2 ? reducer.NoSync() : default;
                    if (views && micro > 0)
                    {
                        // With bucket views the backward pass accumulates into the views itself, as autograd does.
                        AddInto(reducer.Gradients, grads, rank, micro);
                    }
                    else
                    {
                        Fill(reducer.Gradients, rank, micro);
                    }

                    foreach (int leaf in ReadyOrder(s_lengths.Length, micro))
                    {
                        reducer.MarkReady(leaf);
                    }
                }

                reducer.Finish();
                reduced[rank] = Read(reducer.Gradients);

                // The reference: the same three gradients added on the device, the bucketed mean, then one division by 3.
                AddInto(sum, grads, rank, 1);
                AddInto(sum, grads, rank, 2);
                Tree<DeviceArray> mean = new DataParallel().AllReduceGradients(sum);
                foreach (DeviceArray leaf in mean.Leaves())
                {
                    provider.Kernels.Divide(leaf.Buffer, 3);
                }

                expected[rank] = Read(mean);
                mean.DisposeLeaves();
            }
            finally
            {
                grads.DisposeLeaves();
                sum.DisposeLeaves();
            }
        });

        for (int r = 0; r < n; r++)
        {
            AssertBits(expected[r], reduced[r]);
        }
    });

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void HalfCompression_HalfTheBytes_CloseToTheMean(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("batch", n));
        var reduced = new float[n][][];
        var expected = new float[n][][];
        var bytes = new long[n][];
        provider.RunSpmd(mesh, context =>
        {
            int rank = context.DeviceIndex;
            Tree<DeviceArray> grads = Gradients(context.Device, rank, 0);
            using GradientReducer reducer = new DataParallel().CreateGradientReducer(grads, options: new GradientReducerOptions { Compression = GradientCompression.Half });
            try
            {
                Tree<DeviceArray> reference = new DataParallel().AllReduceGradients(grads);
                expected[rank] = Read(reference);
                reference.DisposeLeaves();
                foreach (int leaf in ReadyOrder(s_lengths.Length, 0))
                {
                    reducer.MarkReady(leaf);
                }

                reducer.Finish();
                reduced[rank] = Read(grads);
                bytes[rank] = [.. reducer.LastStepTimings.ToArray().Select(t => t.Bytes)];
            }
            finally
            {
                grads.DisposeLeaves();
            }
        });

        long floats = s_lengths.Sum();
        Assert.All(bytes, b => Assert.Equal(floats * 2, b.Sum()));
        for (int r = 0; r < n; r++)
        {
            for (int leaf = 0; leaf < s_lengths.Length; leaf++)
            {
                for (int i = 0; i < expected[r][leaf].Length; i++)
                {
                    // Half keeps 11 significant bits: each of the n terms rounds (relative 2^-11 of the largest), and so does
                    // each partial sum, so the error scales with the terms, not with a mean that may cancel.
                    float largest = Enumerable.Range(0, n).Max(k => Math.Abs(Value(k, leaf, i, 0)));
                    float tolerance = (largest * 2e-3f) + 1e-6f;
                    Assert.True(Math.Abs(expected[r][leaf][i] - reduced[r][leaf][i]) <= tolerance, $"leaf {leaf}[{i}]: {reduced[r][leaf][i]} vs {expected[r][leaf][i]}");
                }

                Assert.Equal(reduced[0][leaf], reduced[r][leaf]);
            }
        }
    });

    [Fact]
    public void Misuse_ClearErrors_NamingTheLeaf() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("batch", 2));
        Tree<DeviceArray> outside = Gradients(provider.Devices[0], 0, 0);
        try
        {
            using GradientReducer early = new DataParallel().CreateGradientReducer(outside);
            Assert.Contains("outside any SPMD region", Assert.Throws<InvalidOperationException>(() => early.MarkReady(0)).Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentException>(() => new DataParallel().CreateGradientReducer(outside, options: new GradientReducerOptions { ReduceType = ReduceOp.Max }));
            using DeviceArray<double> wide = DeviceArray.Allocate<double>(provider.Devices[0], 4);
            ArgumentException half = Assert.Throws<ArgumentException>(() => new DataParallel().CreateGradientReducer(
                Tree.Dict<DeviceArray>(("w", wide)), options: new GradientReducerOptions { Compression = GradientCompression.Half }));
            Assert.Contains("'w'", half.Message, StringComparison.Ordinal);
            using DeviceArray<float> other = DeviceArray.Allocate<float>(provider.Devices[1], 4);
            Assert.Contains("'z'", Assert.Throws<ArgumentException>(() => new DataParallel().CreateGradientReducer(
                Tree.Dict<DeviceArray>(("a", outside.Leaves()[0]), ("z", other)))).Message, StringComparison.Ordinal);
        }
        finally
        {
            outside.DisposeLeaves();
        }

        var messages = new string?[2];
        provider.RunSpmd(mesh, context =>
        {
            Tree<DeviceArray> grads = Gradients(context.Device, context.DeviceIndex, 0);
            using GradientReducer reducer = new DataParallel().CreateGradientReducer(grads);
            try
            {
                reducer.MarkReady(1);
                string twice = Assert.Throws<InvalidOperationException>(() => reducer.MarkReady(1)).Message;
                string missing = Assert.Throws<InvalidOperationException>(reducer.Finish).Message;
                messages[context.DeviceIndex] = twice + " | " + missing;
                foreach (int leaf in new[] { 0, 2, 3, 4 })
                {
                    reducer.MarkReady(leaf);
                }

                reducer.Finish();
            }
            finally
            {
                grads.DisposeLeaves();
            }
        });

        Assert.All(messages, m => Assert.Contains("'g/1'", m!, StringComparison.Ordinal));
        Assert.All(messages, m => Assert.Contains("missing: 'g/0', 'g/2', 'g/3', 'g/4'", m!, StringComparison.Ordinal));
    });

    [Fact]
    public void Step_SteadyState_AllocatesNothingOnTheParticipant() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("batch", 2));
        var allocated = new long[] { long.MaxValue, long.MaxValue };
        provider.RunSpmd(mesh, context =>
        {
            Tree<DeviceArray> grads = Gradients(context.Device, context.DeviceIndex, 0);
            using GradientReducer reducer = new DataParallel().CreateGradientReducer(grads, options: s_smallBuckets with { Compression = GradientCompression.Half });
            try
            {
                for (int step = 0; step < 10; step++)
                {
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    for (int leaf = s_lengths.Length - 1; leaf >= 0; leaf--)
                    {
                        reducer.MarkReady(leaf);
                    }

                    reducer.Finish();
                    allocated[context.DeviceIndex] = Math.Min(allocated[context.DeviceIndex], GC.GetAllocatedBytesForCurrentThread() - before);
                }
            }
            finally
            {
                grads.DisposeLeaves();
            }
        });

        // The fewest bytes of any round: a per-round allocation shows in every round, while a garbage collection that other
        // threads cause can charge a thread the unused rest of its allocation buffer once.
        Assert.All(allocated, bytes => Assert.Equal(0, bytes));
    });

    /// <summary>Rank r's gradient element i of leaf l at a step: integers and halves of mixed size, so the bits show the order.</summary>
    private static float Value(int rank, int leaf, int i, int step) =>
        ((((i * 31) + (rank * 977) + (leaf * 7) + (step * 13)) % 1999) - 999) * (i % 2 == 0 ? 1.25e-3f : 0.71f);

    private static Tree<DeviceArray> Gradients(Device device, int rank, int step)
    {
        var children = new (string, Tree<DeviceArray>)[s_lengths.Length];
        for (int leaf = 0; leaf < s_lengths.Length; leaf++)
        {
            float[] values = [.. Enumerable.Range(0, s_lengths[leaf]).Select(i => Value(rank, leaf, i, step))];
            children[leaf] = (leaf.ToString(System.Globalization.CultureInfo.InvariantCulture), DeviceArray.FromHost(device, new HostArray<float>(values, values.Length)));
        }

        return Tree.Dict<DeviceArray>(("g", Tree.List(children.Select(c => c.Item2).ToArray())));
    }

    private static void Fill(Tree<DeviceArray> target, int rank, int step)
    {
        var leaves = target.Leaves();
        for (int leaf = 0; leaf < leaves.Length; leaf++)
        {
            float[] values = [.. Enumerable.Range(0, s_lengths[leaf]).Select(i => Value(rank, leaf, i, step))];
            leaves[leaf].Buffer.Provider.CopyFromHost<float>(values, leaves[leaf].Buffer);
        }
    }

    /// <summary>Adds step <paramref name="step"/>'s gradients into <paramref name="target"/>, through <paramref name="scratch"/>, with the kernels.</summary>
    private static void AddInto(Tree<DeviceArray> target, Tree<DeviceArray> scratch, int rank, int step)
    {
        Fill(scratch, rank, step);
        var targets = target.Leaves();
        var sources = scratch.Leaves();
        for (int leaf = 0; leaf < targets.Length; leaf++)
        {
            targets[leaf].Buffer.Provider.Kernels.Axpy(1f, sources[leaf].Buffer, targets[leaf].Buffer);
        }
    }

    private static int[] ReadyOrder(int count, int salt) => (salt % 3) switch
    {
        0 => [.. Enumerable.Range(0, count).Reverse()],
        1 => [.. Enumerable.Range(0, count)],
        _ => [.. Enumerable.Range(0, count).OrderBy(i => (i * 7) % count)],
    };

    private static float[][] Read(Tree<DeviceArray> tree) => [.. tree.Leaves().Select(leaf => leaf.As<float>().ToArray())];

    private static void AssertBits(float[][] expected, float[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int leaf = 0; leaf < expected.Length; leaf++)
        {
            Assert.True(
                expected[leaf].Select(BitConverter.SingleToInt32Bits).SequenceEqual(actual[leaf].Select(BitConverter.SingleToInt32Bits)),
                $"leaf {leaf} differs in its bits");
        }
    }
}
