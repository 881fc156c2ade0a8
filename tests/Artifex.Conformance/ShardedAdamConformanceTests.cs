using Artifex.Distributed;

namespace Artifex.Conformance;

/// <summary>
/// ZeRO stage 1 (<see cref="ShardedAdam"/>) on every provider: the parameters it leaves equal those of replicated Adam
/// (the mean from <see cref="DataParallel.AllReduceGradientsInPlace"/>, then the Adam kernel on every leaf), it refuses
/// mismatches before anything changes, it holds ⌈T/N⌉ elements of each moment, calls one reduce-scatter and one
/// all-gather per step, and allocates nothing per step.
/// </summary>
/// <remarks>
/// The parameter tree has leaves of 7, 3×5 and 11 elements (T = 33, divisible by none of 2, 4, 8), so the last shard is
/// padded and shards cut leaves in the middle. Gradients differ per device and mix magnitudes across devices, so a sum
/// in another order would change bits; every element's gradients share a sign, so no sum is a near-cancellation that
/// Adam's m/√v would amplify into a visible step (which keeps <see cref="Tolerance"/> meaningful where it is not 0).
/// </remarks>
public abstract class ShardedAdamConformanceTests : ProviderTestBase
{
    private const string Axis = "data";
    private const int Steps = 4;
    private const int TotalLength = 7 + 15 + 11;

    /// <summary>
    /// Gets the largest absolute difference allowed between ZeRO's and replicated Adam's parameters: 0 (bitwise) where the
    /// provider's reduce-scatter sums every element in the same order as its all-reduce.
    /// </summary>
    protected virtual float Tolerance => 0f;

    /// <summary>N = 1, 2, 4, 8, and 3: a division by 3, unlike one by a power of two, differs from a multiplication by the reciprocal.</summary>
    [Theory]
    [MemberData(nameof(DeviceCounts))]
    [InlineData(3)]
    public void Step_SeveralStepsPerDeviceGradients_ParametersEqualReplicatedAdam(int n) => WithProvider(n, provider =>
    {
        var zero = new float[n][];
        var replicated = new float[n][];
        provider.RunSpmd(new Mesh(provider.Devices, (Axis, n)), context =>
        {
            int r = context.DeviceIndex;
            Tree<DeviceArray> zeroParameters = Parameters(context.Device);
            Tree<DeviceArray> replicatedParameters = Parameters(context.Device);
            Tree<DeviceArray> first = Filled(context.Device, static (_, _) => 0f);
            Tree<DeviceArray> second = Filled(context.Device, static (_, _) => 0f);
            try
            {
                using ShardedAdam optimizer = new DataParallel().CreateShardedAdam(zeroParameters, r, n);
                for (int step = 1; step <= Steps; step++)
                {
                    ZeroStep(optimizer, context.Device, r, step);
                    ReplicatedStep(replicatedParameters, first, second, context.Device, r, step);
                }

                zero[r] = Flatten(zeroParameters);
                replicated[r] = Flatten(replicatedParameters);
            }
            finally
            {
                DisposeAll(zeroParameters, replicatedParameters, first, second);
            }
        });

        for (int r = 0; r < n; r++)
        {
            Assert.Equal(zero[0], zero[r]);
            AssertClose(replicated[r], zero[r]);
        }

        Assert.NotEqual(Flatten(Parameters(provider.Devices[0]), dispose: true), zero[0]);
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void StateBytes_AreTheShardOfBothMoments_ReplicatedAreTheWholeTree(int n) => WithProvider(n, provider =>
    {
        Tree<DeviceArray> parameters = Parameters(provider.Devices[0]);
        long live = provider.LiveBytes;
        try
        {
            using var optimizer = new ShardedAdam(AmbientCollectives.Instance, parameters, n - 1, n);
            long shard = (TotalLength + n - 1) / n;
            Assert.Equal(TotalLength, optimizer.Length);
            Assert.Equal(shard, optimizer.ShardLength);
            Assert.Equal(shard * n, optimizer.PaddedLength);
            Assert.Equal(shard * 2 * sizeof(float), optimizer.StateBytes);
            Assert.Equal(TotalLength * 2L * sizeof(float), optimizer.ReplicatedStateBytes);
            Assert.Equal(((2 * shard * n) + (2 * shard)) * sizeof(float), optimizer.WorkspaceBytes);
            Assert.Equal(n - 1, optimizer.Rank);
            Assert.Equal(n, optimizer.ShardCount);
            Assert.Equal(optimizer.StateBytes + optimizer.WorkspaceBytes, provider.LiveBytes - live);
        }
        finally
        {
            parameters.DisposeLeaves();
        }
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void Step_ThroughATestDouble_OneReduceScatterAndOneAllGatherPerStep(int n) => WithProvider(n, provider =>
    {
        var counters = new CountingCollectives[n];
        provider.RunSpmd(new Mesh(provider.Devices, (Axis, n)), context =>
        {
            int r = context.DeviceIndex;
            counters[r] = new CountingCollectives();
            Tree<DeviceArray> parameters = Parameters(context.Device);
            try
            {
                using ShardedAdam optimizer = new DataParallel(counters[r]).CreateShardedAdam(parameters, r, n);
                for (int step = 1; step <= Steps; step++)
                {
                    ZeroStep(optimizer, context.Device, r, step);
                }
            }
            finally
            {
                parameters.DisposeLeaves();
            }
        });

        string[] called = ["all_gather_into", "axis_index", "axis_size", "psum_scatter"];
        Assert.All(counters, c =>
        {
            Assert.Equal(Steps, c.Count("psum_scatter"));
            Assert.Equal(Steps, c.Count("all_gather_into"));
            Assert.Equal(called, c.Calls.Keys.Order(StringComparer.Ordinal), StringComparer.Ordinal);
        });
    });

    [Fact]
    public void Constructor_Refusals_NameTheProblemAndAllocateNothing() => WithProvider(2, provider =>
    {
        Device device = provider.Devices[0];
        Tree<DeviceArray> parameters = Parameters(device);
        using DeviceArray<double> wide = DeviceArray.Allocate<double>(device, 3);
        using DeviceArray<float> elsewhere = DeviceArray.Allocate<float>(provider.Devices[1], 3);
        using DeviceArray<float> empty = DeviceArray.Allocate<float>(device, 0);
        using DeviceArray<float> single = DeviceArray.Allocate<float>(device, 3);
        long live = provider.LiveBufferCount;
        try
        {
            var dp = new DataParallel();
            Assert.Throws<ArgumentOutOfRangeException>(() => dp.CreateShardedAdam(parameters, -1, 2));
            Assert.Throws<ArgumentOutOfRangeException>(() => dp.CreateShardedAdam(parameters, 2, 2));
            Assert.Throws<ArgumentOutOfRangeException>(() => dp.CreateShardedAdam(parameters, 0, 0));
            Assert.Contains("none", Assert.Throws<ArgumentException>(() => dp.CreateShardedAdam(Tree.Empty<DeviceArray>(), 0, 1)).Message, StringComparison.Ordinal);
            Assert.Contains("empty", Assert.Throws<ArgumentException>(() => dp.CreateShardedAdam(Tree.Dict<DeviceArray>(("z", empty)), 0, 1)).Message, StringComparison.Ordinal);
            Assert.Contains("'w/1' holds Double", Assert.Throws<ArgumentException>(() => dp.CreateShardedAdam(Tree.Dict(("w", Tree.List<DeviceArray>(single, wide))), 0, 1)).Message, StringComparison.Ordinal);
            Assert.Contains("'b' lies on", Assert.Throws<ArgumentException>(() => dp.CreateShardedAdam(Tree.Dict<DeviceArray>(("a", single), ("b", elsewhere)), 0, 1)).Message, StringComparison.Ordinal);
            Assert.Equal(live, provider.LiveBufferCount);
        }
        finally
        {
            parameters.DisposeLeaves();
        }
    });

    [Fact]
    public void Step_Refusals_NameTheProblem_AndChangeNothing() => WithProvider(2, provider =>
    {
        var after = new float[2][];
        var fresh = new float[2][];
        provider.RunSpmd(new Mesh(provider.Devices, (Axis, 2)), context =>
        {
            int r = context.DeviceIndex;
            Device device = context.Device;
            Tree<DeviceArray> parameters = Parameters(device);
            Tree<DeviceArray> reference = Parameters(device);
            Tree<DeviceArray> gradients = Gradients(device, r, 1);
            Tree<DeviceArray> fewer = Tree.List(gradients["a"], gradients["b"][0]);
            Tree<DeviceArray> reshaped = Tree.Dict(("a", gradients["a"]), ("b", Tree.List(gradients["b"][0].Value.Reshape(5, 3), gradients["b"][1])));
            using DeviceArray<double> wide = DeviceArray.Allocate<double>(device, 11);
            Tree<DeviceArray> retyped = Tree.Dict(("a", gradients["a"]), ("b", Tree.List<DeviceArray>(gradients["b"][0], wide)));
            try
            {
                float[] initial = Flatten(parameters, dispose: false);
                using ShardedAdam optimizer = new DataParallel().CreateShardedAdam(parameters, r, 2);
                using ShardedAdam wrongSize = new DataParallel().CreateShardedAdam(parameters, 0, 1);
                using ShardedAdam wrongRank = new DataParallel().CreateShardedAdam(parameters, 1 - r, 2);
                var settings = AdamStep.Default(1e-2f, 1);
                Assert.Contains("have 2 leaves, but the parameters 3", Assert.Throws<ArgumentException>(() => optimizer.Step(fewer, settings, Axis)).Message, StringComparison.Ordinal);
                Assert.Contains("'b/0' has shape (5, 3)", Assert.Throws<ArgumentException>(() => optimizer.Step(reshaped, settings, Axis)).Message, StringComparison.Ordinal);
                Assert.Contains("'b/1' holds Double", Assert.Throws<ArgumentException>(() => optimizer.Step(retyped, settings, Axis)).Message, StringComparison.Ordinal);
                Assert.Throws<ArgumentOutOfRangeException>(() => optimizer.Step(gradients, settings with { Step = 0 }, Axis));
                Assert.Throws<ArgumentOutOfRangeException>(() => optimizer.Step(gradients, settings with { Beta1 = 1f }, Axis));
                Assert.Contains("sharded over 1", Assert.Throws<ArgumentException>(() => wrongSize.Step(gradients, settings, Axis)).Message, StringComparison.Ordinal);
                Assert.Contains($"rank {1 - r}'s shard", Assert.Throws<InvalidOperationException>(() => wrongRank.Step(gradients, settings, Axis)).Message, StringComparison.Ordinal);
                Assert.Contains("unbound axis name", Assert.Throws<InvalidOperationException>(() => optimizer.Step(gradients, settings, "model")).Message, StringComparison.Ordinal);
                Assert.Equal(initial, Flatten(parameters, dispose: false));

                // The refused steps left the moments as they were: the next step matches a fresh optimizer's first.
                optimizer.Step(gradients, settings, Axis);
                using ShardedAdam second = new DataParallel().CreateShardedAdam(reference, r, 2);
                second.Step(gradients, settings, Axis);
                after[r] = Flatten(parameters, dispose: false);
                fresh[r] = Flatten(reference, dispose: false);
            }
            finally
            {
                DisposeAll(parameters, reference, gradients);
            }
        });

        Assert.Equal(fresh, after);
    });

    [Fact]
    public void Step_AfterDispose_Throws_AndDisposeTwiceIsHarmless() => WithProvider(1, provider =>
    {
        Tree<DeviceArray> parameters = Parameters(provider.Devices[0]);
        Tree<DeviceArray> gradients = Gradients(provider.Devices[0], 0, 1);
        try
        {
            var optimizer = new DataParallel().CreateShardedAdam(parameters, 0, 1);
            optimizer.Dispose();
            optimizer.Dispose();
            Assert.Throws<ObjectDisposedException>(() => optimizer.Step(gradients, AdamStep.Default(1e-2f, 1), Axis));
        }
        finally
        {
            DisposeAll(parameters, gradients);
        }
    });

    [Fact]
    public void Step_SteadyState_AllocatesNothingOnTheParticipant() => WithProvider(2, provider =>
    {
        var allocated = new long[2];
        provider.RunSpmd(new Mesh(provider.Devices, (Axis, 2)), context =>
        {
            int r = context.DeviceIndex;
            Tree<DeviceArray> parameters = Parameters(context.Device);
            Tree<DeviceArray> gradients = Gradients(context.Device, r, 1);
            try
            {
                using ShardedAdam optimizer = new DataParallel().CreateShardedAdam(parameters, r, 2);
                optimizer.Step(gradients, AdamStep.Default(1e-3f, 1), Axis);

                // Best of three windows: a per-step allocation shows in every window, a one-off runtime allocation in at most one.
                long best = long.MaxValue;
                for (int window = 0; window < 3; window++)
                {
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    for (int step = 2; step < 12; step++)
                    {
                        optimizer.Step(gradients, AdamStep.Default(1e-3f, step), Axis);
                    }

                    best = Math.Min(best, GC.GetAllocatedBytesForCurrentThread() - before);
                }

                allocated[r] = best;
            }
            finally
            {
                DisposeAll(parameters, gradients);
            }
        });

        Assert.Equal([0L, 0L], allocated);
    });

    private void AssertClose(float[] expected, float[] actual)
    {
        if (Tolerance == 0f)
        {
            Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
            return;
        }

        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance, $"Element {i}: {actual[i]} against {expected[i]}.");
        }
    }

    private static void ZeroStep(ShardedAdam optimizer, Device device, int rank, int step)
    {
        Tree<DeviceArray> gradients = Gradients(device, rank, step);
        try
        {
            optimizer.Step(gradients, AdamStep.Default(1e-2f, step), Axis);
        }
        finally
        {
            gradients.DisposeLeaves();
        }
    }

    private static void ReplicatedStep(Tree<DeviceArray> parameters, Tree<DeviceArray> first, Tree<DeviceArray> second, Device device, int rank, int step)
    {
        Tree<DeviceArray> gradients = Gradients(device, rank, step);
        try
        {
            new DataParallel().AllReduceGradientsInPlace(gradients, ReduceOp.Mean, Axis);
            var p = parameters.Leaves();
            var g = gradients.Leaves();
            var m = first.Leaves();
            var v = second.Leaves();
            for (int leaf = 0; leaf < p.Length; leaf++)
            {
                device.Provider!.Kernels.AdamUpdate(p[leaf].Buffer, g[leaf].Buffer, m[leaf].Buffer, v[leaf].Buffer, AdamStep.Default(1e-2f, step));
            }
        }
        finally
        {
            gradients.DisposeLeaves();
        }
    }

    /// <summary>The same starting parameters on every device.</summary>
    private static Tree<DeviceArray> Parameters(Device device) => Filled(device, static (leaf, i) => (((i * 5) + leaf) % 17 - 8) * 0.05f);

    /// <summary>
    /// Device <paramref name="rank"/>'s gradients at <paramref name="step"/>: one sign per element and step on every device,
    /// magnitudes from 1e-3 to 3 that differ per device.
    /// </summary>
    private static Tree<DeviceArray> Gradients(Device device, int rank, int step) => Filled(device, (leaf, i) =>
    {
        float sign = (i + leaf + step) % 2 == 0 ? 1f : -1f;
        float scale = (i + rank) % 3 == 0 ? 1e-3f : 1.37f;
        return sign * scale * (1f + ((((i * 7919) + (rank * 104729) + (step * 13) + (leaf * 31)) % 2001) / 1000f));
    });

    /// <summary>The tree {a: (7), b: [(3, 5), (11)]}, each element from <paramref name="value"/>(leaf, index).</summary>
    private static Tree<DeviceArray> Filled(Device device, Func<int, int, float> value)
    {
        DeviceArray Leaf(int leaf, params long[] shape)
        {
            int length = (int)shape.Aggregate(1L, static (a, b) => a * b);
            return DeviceArray.FromHost(device, new HostArray<float>([.. Enumerable.Range(0, length).Select(i => value(leaf, i))], shape));
        }

        return Tree.Dict(("a", Tree.Leaf(Leaf(0, 7))), ("b", Tree.List<DeviceArray>(Leaf(1, 3, 5), Leaf(2, 11))));
    }

    private static float[] Flatten(Tree<DeviceArray> tree, bool dispose = false)
    {
        float[] values = [.. tree.Leaves().SelectMany(static l => l.As<float>().ToArray())];
        if (dispose)
        {
            tree.DisposeLeaves();
        }

        return values;
    }

    private static void DisposeAll(params Tree<DeviceArray>[] trees)
    {
        foreach (Tree<DeviceArray> tree in trees)
        {
            tree.DisposeLeaves();
        }
    }
}
