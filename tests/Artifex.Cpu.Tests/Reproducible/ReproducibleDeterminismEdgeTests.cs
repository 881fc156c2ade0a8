using System.Globalization;

namespace Artifex.Cpu.Tests.Reproducible;

/// <summary>
/// Edge cases of reproducible sums (<see cref="ReproducibleSum.Version"/>): empty and one-element buffers, NaN, signed
/// zeros, the window, element types, Mean, Max/Min and the deposit capacity. "Determinism" in the name: CI reruns these at
/// every SIMD width (the window check and the finalize have vector and scalar paths).
/// </summary>
public sealed class ReproducibleDeterminismEdgeTests
{
    private const int Length = 37; // a 32-element vector body, an 8-element body and a tail

    private static readonly int s_canonicalNaN = BitConverter.SingleToInt32Bits(float.NaN);

    public static TheoryData<float, bool> OutsideValues => new()
    {
        { float.PositiveInfinity, true }, { float.NegativeInfinity, false }, { 2147483648f, true }, { -2147483648f, false },
        { 1073741952f, false }, // the float after 2^30
    };

    [Fact]
    public void EmptyBuffers_FusedAndState_SucceedAndWriteNothing()
    {
        using var provider = new CpuProvider(2);
        foreach (ReduceOp op in new[] { ReduceOp.Sum, ReduceOp.Mean })
        {
            foreach (bool inPlace in new[] { true, false })
            {
                float[][] results = ReproHarness.AllReduce(provider, [[], []], op, Determinism.Reproducible, inPlace);
                Assert.All(results, Assert.Empty);
            }
        }

        float[][] states = ReproHarness.States(provider, [[], [], []], [[0, 2], [1]]);
        Assert.All(states, Assert.Empty);
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void LengthOne_EveryRankOrder_ExactSumWhileRankOrderedVaries()
    {
        using var provider = new CpuProvider(3);
        float[] values = [1e8f, 1f, -1e8f];
        var rankOrdered = new HashSet<float>();
        foreach (int[] order in new[] { new[] { 0, 1, 2 }, [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0] })
        {
            float[][] perRank = [.. order.Select(k => new[] { values[k] })];
            float[][] results = ReproHarness.AllReduce(provider, perRank, ReduceOp.Sum, Determinism.Reproducible);
            Assert.All(results, r => Assert.Equal(1f, Assert.Single(r)));
            rankOrdered.Add(ReproHarness.AllReduce(provider, perRank, ReduceOp.Sum, Determinism.RankOrdered)[0][0]);
            float[][] states = ReproHarness.States(provider, perRank, [[0], [1], [2]]);
            Assert.All(states, r => Assert.Equal(1f, Assert.Single(r)));
        }

        Assert.Equal(2, rankOrdered.Count);
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void NaN_AnyPayloadOnAnyRank_CanonicalNaNAndOtherElementsUnaffected()
    {
        const int n = 3;
        float[][] perRank = ReproducibleDeterminismAccuracyTests.Values("gradient", n, Length, seed: 11);
        (int Rank, int Index, uint Bits)[] nans =
        [
            (0, 0, 0x7FC00001), (1, 8, 0xFFC00123), (2, 16, 0x7F800001), (0, 20, 0x7FFFFFFF), (1, 20, 0xFFC00000),
            (2, 31, 0xFFFFFFFF), (0, 33, 0x7FC0ABCD), (1, 36, 0x7F800002),
        ];
        foreach ((int rank, int index, uint bits) in nans)
        {
            perRank[rank][index] = BitConverter.UInt32BitsToSingle(bits);
        }

        int[] expected = ReproHarness.Bits(PR3Reference.Sum(perRank));
        foreach (int index in nans.Select(static t => t.Index))
        {
            Assert.Equal(s_canonicalNaN, expected[index]);
        }

        using var provider = new CpuProvider(n);
        foreach (bool inPlace in new[] { true, false })
        {
            Assert.All(ReproHarness.AllReduce(provider, perRank, ReduceOp.Sum, Determinism.Reproducible, inPlace), r => Assert.Equal(expected, ReproHarness.Bits(r)));
        }

        Assert.All(ReproHarness.States(provider, perRank, [[2], [], [1, 0]]), r => Assert.Equal(expected, ReproHarness.Bits(r)));
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Theory]
    [InlineData(ReduceOp.Max)]
    [InlineData(ReduceOp.Min)]
    public void MaxMin_Reproducible_CanonicalNaNAndSignedZerosWhateverTheRankOrder(ReduceOp op)
    {
        float[] a = ReproducibleDeterminismAccuracyTests.Values("wide", 1, Length, seed: 5)[0];
        float[] b = ReproducibleDeterminismAccuracyTests.Values("wide", 1, Length, seed: 6)[0];
        foreach (int i in new[] { 0, 17, 33 })
        {
            (a[i], b[i]) = (-0f, 0f);
            (a[i + 1], b[i + 1]) = (BitConverter.UInt32BitsToSingle(0x7FC00001), 2f);
            (a[i + 2], b[i + 2]) = (-1f, BitConverter.UInt32BitsToSingle(0xFFC00123));
            (a[i + 3], b[i + 3]) = (BitConverter.UInt32BitsToSingle(0x7F800001), BitConverter.UInt32BitsToSingle(0xFFFFFFFF));
        }

        using var provider = new CpuProvider(2);
        int[] ab = ReproHarness.Bits(ReproHarness.AllReduce(provider, [a, b], op, Determinism.Reproducible)[0]);
        int[] ba = ReproHarness.Bits(ReproHarness.AllReduce(provider, [b, a], op, Determinism.Reproducible, inPlace: false)[1]);
        Assert.Equal(ab, ba);
        foreach (int i in new[] { 0, 17, 33 })
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(op == ReduceOp.Max ? 0f : -0f), ab[i]);
            Assert.Equal([s_canonicalNaN, s_canonicalNaN, s_canonicalNaN], ab.AsSpan(i + 1, 3).ToArray());
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Theory]
    [MemberData(nameof(OutsideValues))]
    public void Window_FusedValueOutside_EveryRankThrowsNamingRankIndexValueAndNoBufferChanges(float bad, bool inPlace)
    {
        const int n = 4;
        float[][] inputs = ReproducibleDeterminismAccuracyTests.Values("wide", n, Length, seed: 9);
        inputs[2][3] = float.NaN; // NaN is inside the window: it propagates
        inputs[2][21] = bad;
        inputs[2][30] = float.PositiveInfinity; // a later one: the first is named
        var errors = new string[n];
        var after = new float[n][];
        var afterOutputs = new float[n][];
        float[] sentinel = [.. Enumerable.Repeat(-7.25f, Length)];
        using var provider = new CpuProvider(n);
        var mesh = new Mesh(provider.Devices, ("data", n));
        Assert.Throws<ArgumentException>(() => provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>((float[])inputs[r].Clone(), Length));
            using DeviceArray<float> y = DeviceArray.FromHost(context.Device, new HostArray<float>(sentinel, Length));
            try
            {
                if (inPlace)
                {
                    Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data", Determinism.Reproducible);
                }
                else
                {
                    context.AllReduce(x, y, ReduceOp.Mean, context.GetAxisGroup("data"), Determinism.Reproducible);
                }
            }
            catch (ArgumentException error)
            {
                errors[r] = error.Message;
                throw;
            }
            finally
            {
                after[r] = x.ToArray();
                afterOutputs[r] = y.ToArray();
            }
        }));
        string value = ((double)bad).ToString("R", CultureInfo.InvariantCulture);
        Assert.All(errors, m => Assert.Contains("rank 2", m, StringComparison.Ordinal));
        Assert.All(errors, m => Assert.Contains("[21] is " + value, m, StringComparison.Ordinal));
        for (int r = 0; r < n; r++)
        {
            Assert.Equal(ReproHarness.Bits(inputs[r]), ReproHarness.Bits(after[r]));
            Assert.Equal(ReproHarness.Bits(sentinel), ReproHarness.Bits(afterOutputs[r]));
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Theory]
    [MemberData(nameof(OutsideValues))]
    public void Window_StateDepositValueOutside_ThrowsNamingIndexValueAndStateUnchanged(float bad, bool earlierNaN)
    {
        float[][] good = ReproducibleDeterminismAccuracyTests.Values("wide", 2, Length, seed: 13);
        float[] values = (float[])good[1].Clone();
        values[21] = bad;
        values[36] = float.NegativeInfinity;
        if (earlierNaN)
        {
            values[2] = float.NaN;
        }

        using var provider = new CpuProvider(1);
        Device device = provider.Devices[0];
        using (ReproducibleSumState state = ReproducibleSumState.Create(device, Length))
        {
            using (DeviceArray<float> first = DeviceArray.FromHost(device, new HostArray<float>(good[0], Length)))
            {
                state.Deposit(first.Buffer);
            }

            double[] before = ReproHarness.Raw(state);
            using (DeviceArray<float> x = DeviceArray.FromHost(device, new HostArray<float>(values, Length)))
            {
                ArgumentException error = Assert.Throws<ArgumentException>(() => state.Deposit(x.Buffer));
                Assert.Contains("[21] is " + ((double)bad).ToString("R", CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
                Assert.Equal(ReproHarness.Bits(values), ReproHarness.Bits(x.ToArray()));
            }

            Assert.Equal(ReproHarness.Bits(before), ReproHarness.Bits(ReproHarness.Raw(state)));
            Assert.Equal(1, state.DepositCount);
            using (DeviceArray<float> second = DeviceArray.FromHost(device, new HostArray<float>(good[1], Length)))
            {
                state.Deposit(second.Buffer);
            }

            using DeviceArray<float> output = DeviceArray.Allocate<float>(device, Length);
            state.Finalize(output.Buffer);
            Assert.Equal(ReproHarness.Bits(PR3Reference.Sum(good)), ReproHarness.Bits(output.ToArray()));
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void Window_ExactlyTwoToThe30_Accepted()
    {
        float max = ReproducibleSum.MaxMagnitude;
        Assert.Equal(MathF.ScaleB(1f, 30), max);
        float[][] perRank = [[max, -max, max, 1f], [max, -max, -max, MathF.BitDecrement(max)]];
        using var provider = new CpuProvider(2);
        float[][] fused = ReproHarness.AllReduce(provider, perRank, ReduceOp.Sum, Determinism.Reproducible);
        float[] expected = [2 * max, -2 * max, 0f, MathF.BitDecrement(max)]; // 2^30 - 63 rounds to 2^30 - 64
        Assert.All(fused, r => Assert.Equal(ReproHarness.Bits(expected), ReproHarness.Bits(r)));
        Assert.All(ReproHarness.States(provider, perRank, [[1], [0]]), r => Assert.Equal(ReproHarness.Bits(expected), ReproHarness.Bits(r)));
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void TwoAxisMesh_ReproducibleOverOneAxis_EachGroupGetsItsOwnMeanAndStateSum()
    {
        // Mesh (data 2, model 4): reducing over "data" pairs device m with device 4 + m; the mean divides by the group size 2.
        float[][] x = ReproducibleDeterminismAccuracyTests.Values("gradient", 8, Length, seed: 41);
        using var provider = new CpuProvider(8);
        var mesh = new Mesh(provider.Devices, ("data", 2), ("model", 4));
        var means = new float[8][];
        var sums = new float[8][];
        provider.RunSpmd(mesh, context =>
        {
            int d = context.DeviceIndex;
            using DeviceArray<float> v = DeviceArray.FromHost(context.Device, new HostArray<float>(x[d], Length));
            using ReproducibleSumState state = ReproducibleSumState.Create(context.Device, Length);
            state.Deposit(v.Buffer);
            state.AllReduce("data");
            Collectives.AllReduceInPlace(v, ReduceOp.Mean, "data", Determinism.Reproducible);
            means[d] = v.ToArray();
            using DeviceArray<float> output = DeviceArray.Allocate<float>(context.Device, Length);
            state.Finalize(output.Buffer);
            sums[d] = output.ToArray();
        });
        for (int d = 0; d < 8; d++)
        {
            float[][] pair = [x[d % 4], x[4 + (d % 4)]];
            Assert.Equal(ReproHarness.Bits(PR3Reference.Sum(pair, 0.5)), ReproHarness.Bits(means[d]));
            Assert.Equal(ReproHarness.Bits(PR3Reference.Sum(pair)), ReproHarness.Bits(sums[d]));
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }
}
