using System.Numerics;

namespace Artifex.Cpu.Tests.Reproducible;

/// <summary>
/// Reproducible sums by element type (Single, Half, Double, integers), Mean, signed zeros, participants that disagree,
/// and the deposit capacity <see cref="ReproducibleSum.MaxDeposits"/>. "Determinism" in the name: CI reruns these at
/// every SIMD width.
/// </summary>
public sealed class ReproducibleDeterminismTypesAndCapacityTests
{
    [Fact]
    public void NegativeZeros_SumAndMean_PositiveZeroWhereRankOrderedGivesNegativeZero()
    {
        float[] zeros = [.. Enumerable.Repeat(-0f, 17)];
        int[] positive = new int[17];
        using var provider = new CpuProvider(3);
        float[][] perRank = [zeros, zeros, zeros];
        Assert.All(ReproHarness.AllReduce(provider, perRank, ReduceOp.Sum, Determinism.RankOrdered), r => Assert.All(r, v => Assert.True(float.IsNegative(v))));
        Assert.All(ReproHarness.AllReduce(provider, perRank, ReduceOp.Sum, Determinism.Reproducible), r => Assert.Equal(positive, ReproHarness.Bits(r)));
        Assert.All(ReproHarness.AllReduce(provider, perRank, ReduceOp.Mean, Determinism.Reproducible, inPlace: false), r => Assert.Equal(positive, ReproHarness.Bits(r)));
        Assert.All(ReproHarness.States(provider, perRank, [[0, 1], [], [2]]), r => Assert.Equal(positive, ReproHarness.Bits(r)));
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void Double_Reproducible_NotSupportedOnEveryParticipantAndRankOrderedStillWorks()
    {
        using var provider = new CpuProvider(2);
        var mesh = new Mesh(provider.Devices, ("data", 2));
        var sums = new double[2][];
        provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<double> x = DeviceArray.FromHost(context.Device, new HostArray<double>([1.0, 2.0, 3.0], 3));
            using DeviceArray<double> y = DeviceArray.Allocate<double>(context.Device, 3);
            using DeviceArray<double> block = DeviceArray.Allocate<double>(context.Device, 1);
            AxisGroup group = context.GetAxisGroup("data");
            foreach (ReduceOp op in new[] { ReduceOp.Sum, ReduceOp.Mean, ReduceOp.Max })
            {
                Assert.Throws<NotSupportedException>(() => Collectives.AllReduceInPlace(x, op, "data", Determinism.Reproducible));
                Assert.Throws<NotSupportedException>(() => context.AllReduce(x, y, op, group, Determinism.Reproducible));
            }

            using DeviceArray<double> wide = DeviceArray.Allocate<double>(context.Device, 2);
            Assert.Throws<NotSupportedException>(() => context.ReduceScatter(wide, block, group, Determinism.Reproducible));
            Assert.Equal([1.0, 2.0, 3.0], x.ToArray());
            Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data", Determinism.RankOrdered);
            sums[context.DeviceIndex] = x.ToArray();

            using ReproducibleSumState state = ReproducibleSumState.Create(context.Device, 3);
            Assert.Throws<ArgumentException>(() => state.Deposit(x.Buffer));
            Assert.Equal(0, state.DepositCount);
        });
        Assert.All(sums, s => Assert.Equal([2.0, 4.0, 6.0], s));
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void Integers_Reproducible_SameAsRankOrderedIncludingWraparound()
    {
        const int n = 3;
        int[][] ints = [[int.MaxValue, -5, 7, int.MinValue], [1, 5, -7, -1], [1, 123456789, 0, int.MinValue]];
        long[][] longs = [[long.MaxValue, -5, 7], [1, 5, -7], [1, long.MinValue, 0]];
        using var provider = new CpuProvider(n);
        var mesh = new Mesh(provider.Devices, ("data", n));
        var results = new List<object>[n];
        provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            results[r] = [];
            foreach (ReduceOp op in new[] { ReduceOp.Sum, ReduceOp.Max, ReduceOp.Min })
            {
                foreach (Determinism determinism in new[] { Determinism.RankOrdered, Determinism.Reproducible })
                {
                    using DeviceArray<int> i = DeviceArray.FromHost(context.Device, new HostArray<int>((int[])ints[r].Clone(), 4));
                    using DeviceArray<long> l = DeviceArray.FromHost(context.Device, new HostArray<long>((long[])longs[r].Clone(), 3));
                    Collectives.AllReduceInPlace(i, op, "data", determinism);
                    Collectives.AllReduceInPlace(l, op, "data", determinism);
                    results[r].Add(i.ToArray());
                    results[r].Add(l.ToArray());
                }
            }
        });
        Assert.Equal(unchecked(new[] { int.MaxValue + 2, 123456789, 0, int.MinValue + int.MinValue - 1 }), (int[])results[0][2]);
        Assert.Equal(unchecked(new[] { long.MaxValue + 2, long.MinValue, 0 }), (long[])results[0][3]);
        for (int k = 0; k < results[0].Count; k += 4)
        {
            // Reproducible (k + 2, k + 3) equals rank-ordered (k, k + 1) for every op.
            Assert.Equal(results[0][k], results[0][k + 2]);
            Assert.Equal(results[0][k + 1], results[0][k + 3]);
        }

        Assert.All(results, r => Assert.Equal(results[0], r));
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void Mean_ThreeDevices_ExactSumOverThreeRoundedOnce()
    {
        // Faithful everywhere and equal to round(exact / 3) on these values; random data with exact ties in exact / 3
        // are covered by ReproducibleDeterminismResidualTests.
        const int n = 3;
        float[][] picked = [[1f, 0.1f, 1e-3f, 3f, 1e6f, 2f], [2f, 0.2f, -1e-3f, 3f, 1f, -0.5f], [4f, 0.7f, 5e-4f, 3f, -7f, 1.75f]];
        float[][] random = ReproducibleDeterminismAccuracyTests.Values("gradient", n, 3000, seed: 21);
        using var provider = new CpuProvider(n);
        foreach (float[][] x in new[] { picked, random })
        {
            float[] mean = ReproHarness.AllReduce(provider, x, ReduceOp.Mean, Determinism.Reproducible)[0];
            float[] states = ReproHarness.States(provider, x, [[2], [0], [1]], scale: 1.0 / n)[1];
            Assert.Equal(ReproHarness.Bits(PR3Reference.Sum(x, 1.0 / n)), ReproHarness.Bits(mean));
            Assert.Equal(ReproHarness.Bits(mean), ReproHarness.Bits(states));
            for (int i = 0; i < mean.Length; i++)
            {
                BigInteger exact = ExactSum.Of(x, i);
                Assert.True(ExactSum.IsFaithful(exact, mean[i], n), $"[{i}]: {mean[i]:R} is not a faithful mean");
                if (ReferenceEquals(x, picked))
                {
                    Assert.Equal(ExactSum.RoundToFloat(exact, n), mean[i]);
                }
            }
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void Mean_FourDevices_IsTheSumTimesAQuarter()
    {
        float[][] x = ReproducibleDeterminismAccuracyTests.Values("gradient", 4, 1000, seed: 23);
        using var provider = new CpuProvider(4);
        float[] sum = ReproHarness.AllReduce(provider, x, ReduceOp.Sum, Determinism.Reproducible)[0];
        float[] mean = ReproHarness.AllReduce(provider, x, ReduceOp.Mean, Determinism.Reproducible, inPlace: false)[3];
        Assert.Equal(ReproHarness.Bits([.. sum.Select(static s => s * 0.25f)]), ReproHarness.Bits(mean));
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void Half_FusedAndState_MatchOracleRoundedOnceToHalf()
    {
        const int n = 3;
        const int length = 37;
        Half[][] x = [.. ReproducibleDeterminismAccuracyTests.Values("gradient", n, length, seed: 31).Select(static c => c.Select(static v => (Half)(v * 100f)).ToArray())];
        x[1][5] = Half.NaN;
        Half[] expected = PR3Reference.SumHalf(x);
        using var provider = new CpuProvider(n);
        var mesh = new Mesh(provider.Devices, ("data", n));
        var fused = new Half[n][];
        var states = new Half[n][];
        provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            using DeviceArray<Half> h = DeviceArray.FromHost(context.Device, new HostArray<Half>((Half[])x[r].Clone(), length));
            using ReproducibleSumState state = ReproducibleSumState.Create(context.Device, length);
            state.Deposit(h.Buffer);
            state.AllReduce("data");
            Collectives.AllReduceInPlace(h, ReduceOp.Sum, "data", Determinism.Reproducible);
            fused[r] = h.ToArray();
            using DeviceArray<Half> output = DeviceArray.Allocate<Half>(context.Device, length);
            state.Finalize(output.Buffer);
            states[r] = output.ToArray();
        });
        ushort[] bits = [.. expected.Select(BitConverter.HalfToUInt16Bits)];
        Assert.Equal(BitConverter.HalfToUInt16Bits(Half.NaN), bits[5]);
        Assert.All(fused.Concat(states), r => Assert.Equal(bits, r.Select(BitConverter.HalfToUInt16Bits)));
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void Participants_DisagreeOnDeterminism_EveryParticipantThrowsAndNothingChanges()
    {
        using var provider = new CpuProvider(2);
        var mesh = new Mesh(provider.Devices, ("data", 2));
        var messages = new string[2];
        var after = new float[2][];
        Assert.Throws<ArgumentException>(() => provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([1f, 2f], 2));
            try
            {
                Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data", r == 0 ? Determinism.Reproducible : Determinism.RankOrdered);
            }
            catch (ArgumentException error)
            {
                messages[r] = error.Message;
                throw;
            }
            finally
            {
                after[r] = x.ToArray();
            }
        }));
        Assert.All(messages, m => Assert.Contains("determinism", m, StringComparison.Ordinal));
        Assert.All(after, a => Assert.Equal([1f, 2f], a));
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void MaxDeposits_AtCapacity_ExactSumsAndOneMoreThrowsWithStateUnchanged()
    {
        // 2^14 deposits of the largest magnitudes and of residuals of half a level-0 unit fill each level to its edge.
        float[] values = [MathF.BitDecrement(ReproducibleSum.MaxMagnitude), -MathF.ScaleB(1f, -7), MathF.ScaleB(1f, -7), -ReproducibleSum.MaxMagnitude, 1.5f];
        float[] expected = [MathF.ScaleB(1f, 44) - MathF.ScaleB(1f, 20), -128f, 128f, -MathF.ScaleB(1f, 44), 24576f];
        double[] oracle = PR3Reference.Empty(values.Length);
        for (int k = 0; k < ReproducibleSum.MaxDeposits; k++)
        {
            PR3Reference.Deposit(oracle, values);
        }

        using var provider = new CpuProvider(1);
        Device device = provider.Devices[0];
        using (ReproducibleSumState state = ReproducibleSumState.Create(device, values.Length))
        using (DeviceArray<float> x = DeviceArray.FromHost(device, new HostArray<float>(values, values.Length)))
        using (DeviceArray<float> output = DeviceArray.Allocate<float>(device, values.Length))
        {
            for (int k = 0; k < ReproducibleSum.MaxDeposits; k++)
            {
                state.Deposit(x.Buffer);
            }

            Assert.Equal(ReproducibleSum.MaxDeposits, state.DepositCount);
            double[] full = ReproHarness.Raw(state);
            Assert.Equal(ReproHarness.Bits(oracle), ReproHarness.Bits(full));
            state.Finalize(output.Buffer);
            Assert.Equal(ReproHarness.Bits(expected), ReproHarness.Bits(output.ToArray()));

            Assert.Throws<InvalidOperationException>(() => state.Deposit(x.Buffer));
            Assert.Equal(ReproducibleSum.MaxDeposits, state.DepositCount);
            Assert.Equal(ReproHarness.Bits(full), ReproHarness.Bits(ReproHarness.Raw(state)));

            state.Reset();
            Assert.Equal(0, state.DepositCount);
            Assert.Equal(ReproHarness.Bits(PR3Reference.Empty(values.Length)), ReproHarness.Bits(ReproHarness.Raw(state)));
            state.Finalize(output.Buffer);
            Assert.Equal(new int[values.Length], ReproHarness.Bits(output.ToArray()));
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void MaxDeposits_MergeAndAllReduceOverCapacity_ThrowWithStatesUnchanged()
    {
        const int half = ReproducibleSum.MaxDeposits / 2;
        float[] values = [1f, -2.5f, 3e-5f];
        using var provider = new CpuProvider(2);
        var mesh = new Mesh(provider.Devices, ("data", 2));
        var errors = new Exception?[2];
        provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            using ReproducibleSumState state = ReproducibleSumState.Create(context.Device, values.Length);
            using ReproducibleSumState other = ReproducibleSumState.Create(context.Device, values.Length);
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(values, values.Length));
            for (int k = 0; k < half + r; k++)
            {
                state.Deposit(x.Buffer);
                other.Deposit(x.Buffer);
            }

            double[] before = ReproHarness.Raw(state);
            if (r == 1)
            {
                // half + 1 twice: one over.
                Assert.Throws<InvalidOperationException>(() => state.Merge(other));
                Assert.Equal(half + 1, state.DepositCount);
                Assert.Equal(ReproHarness.Bits(before), ReproHarness.Bits(ReproHarness.Raw(state)));
            }

            // half + (half + 1) over the axis: one over, on both participants.
            errors[r] = Record.Exception(() => state.AllReduce("data"));
            Assert.Equal(half + r, state.DepositCount);
            Assert.Equal(ReproHarness.Bits(before), ReproHarness.Bits(ReproHarness.Raw(state)));
        });
        Assert.All(errors, e => Assert.IsType<InvalidOperationException>(e));
        Assert.Equal(0, provider.LiveBufferCount);
    }
}
