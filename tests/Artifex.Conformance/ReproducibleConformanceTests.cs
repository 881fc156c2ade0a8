namespace Artifex.Conformance;

/// <summary>
/// Reproducible collectives (<see cref="Determinism.Reproducible"/>, <see cref="SpmdContext.AllReduceContributions"/>) on
/// every provider: the bits equal those of one <see cref="ReproducibleSumState"/> holding every contribution, whichever
/// device holds which, for any device count; Max and Min give the canonical NaN; bad calls fail every participant
/// before anything changes.
/// </summary>
/// <remarks>
/// Eight fixed contributions of <see cref="Length"/> elements mix magnitudes from 2^−20 to 2^20 with both signs, so
/// plain float sums in different orders differ in many elements and the comparisons are sharp.
/// </remarks>
public abstract class ReproducibleConformanceTests : ProviderTestBase
{
    private const string Axis = "data";
    private const int Length = 37;
    private const int Contributions = 8;

    private static readonly float[][] s_contributions = [.. Enumerable.Range(0, Contributions).Select(static c => Values(c))];

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void AllReduceContributions_EightBlocksSplitOverNDevices_BitsOfOneStateHoldingEveryBlock(int n) => WithProvider(n, provider =>
    {
        int blocks = Contributions / n;
        var sums = new float[n][];
        var means = new float[n][];
        provider.RunSpmd(new Mesh(provider.Devices, (Axis, n)), context =>
        {
            int r = context.DeviceIndex;

            // Rank r holds contributions r, r + n, r + 2n, ...: an assignment that changes with n.
            float[] mine = [.. Enumerable.Range(0, blocks).SelectMany(b => s_contributions[r + (b * n)])];
            using DeviceArray<float> stacked = DeviceArray.FromHost(context.Device, new HostArray<float>(mine, mine.Length));
            using DeviceArray<float> sum = DeviceArray.Allocate<float>(context.Device, Length);
            context.AllReduceContributions(stacked, sum, ReduceOp.Sum, context.GetAxisGroup(Axis));
            sums[r] = sum.ToArray();

            // In place: the output is the first block.
            using var mean = (DeviceArray<float>)stacked.Slice(0, Length);
            Collectives.AllReduceContributions(stacked, mean, ReduceOp.Mean, Axis);
            means[r] = mean.ToArray();
        });

        float[] expectedSum = OneState(provider, s_contributions, 1.0);
        float[] expectedMean = OneState(provider, s_contributions, 1.0 / Contributions);
        Assert.All(sums, s => Assert.Equal(Bits(expectedSum), Bits(s)));
        Assert.All(means, m => Assert.Equal(Bits(expectedMean), Bits(m)));
        Assert.NotEqual(Bits(expectedSum), Bits(PlainSum(Enumerable.Reverse(s_contributions))));
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void AllReduceAndReduceScatter_Reproducible_BitsOfOneStateHoldingEveryInput(int n) => WithProvider(n, provider =>
    {
        float[][] inputs = [.. Enumerable.Range(0, n).Select(r => s_contributions[Contributions - 1 - r].Concat(s_contributions[r]).ToArray())];
        var means = new float[n][];
        var blocks = new float[n][];
        provider.RunSpmd(new Mesh(provider.Devices, (Axis, n)), context =>
        {
            int r = context.DeviceIndex;
            AxisGroup group = context.GetAxisGroup(Axis);
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(inputs[r], inputs[r].Length));
            using DeviceArray<float> mean = DeviceArray.Allocate<float>(context.Device, x.Length);
            context.AllReduce(x, mean, ReduceOp.Mean, group, Determinism.Reproducible);
            means[r] = mean.ToArray();
            if (x.Length % n == 0)
            {
                using DeviceArray<float> block = DeviceArray.Allocate<float>(context.Device, x.Length / n);
                context.ReduceScatter(x, block, group, Determinism.Reproducible);
                blocks[r] = block.ToArray();
            }
        });

        float[] expectedMean = OneState(provider, inputs, 1.0 / n);
        Assert.All(means, m => Assert.Equal(Bits(expectedMean), Bits(m)));
        if (blocks[0] is not null)
        {
            Assert.Equal(Bits(OneState(provider, inputs, 1.0)), Bits([.. blocks.SelectMany(static b => b)]));
        }
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void MaxAndMin_Reproducible_CanonicalNaNWhateverThePayload(int n) => WithProvider(n, provider =>
    {
        var results = new float[2 * n][];
        provider.RunSpmd(new Mesh(provider.Devices, (Axis, n)), context =>
        {
            int r = context.DeviceIndex;

            // Element 0 is a NaN with a payload of the rank's own; element 1 a NaN only on the last rank; element 2 none.
            float[] values = [BitConverter.Int32BitsToSingle(0x7FC0_0001 + r), r == n - 1 ? -float.NaN : r, 2f - r];
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(values, values.Length));
            using DeviceArray<float> max = DeviceArray.Allocate<float>(context.Device, 3);
            using DeviceArray<float> min = DeviceArray.Allocate<float>(context.Device, 3);
            context.AllReduce(x, max, ReduceOp.Max, context.GetAxisGroup(Axis), Determinism.Reproducible);
            context.AllReduce(x, min, ReduceOp.Min, context.GetAxisGroup(Axis), Determinism.Reproducible);
            results[2 * r] = max.ToArray();
            results[(2 * r) + 1] = min.ToArray();
        });

        int canonical = BitConverter.SingleToInt32Bits(float.NaN);
        Assert.All(results, result =>
        {
            Assert.Equal(canonical, BitConverter.SingleToInt32Bits(result[0]));
            Assert.Equal(canonical, BitConverter.SingleToInt32Bits(result[1]));
        });
        Assert.All(results.Where(static (_, i) => i % 2 == 0), max => Assert.Equal(2f, max[2]));
        Assert.All(results.Where(static (_, i) => i % 2 == 1), min => Assert.Equal(3f - n, min[2]));
    });

    [Fact]
    public void AllReduceContributions_BadCalls_ThrowBeforeAnythingChanges() => WithProvider(2, provider =>
    {
        var errors = new Exception?[2][];
        var unchanged = new bool[2];
        provider.RunSpmd(new Mesh(provider.Devices, (Axis, 2)), context =>
        {
            int r = context.DeviceIndex;
            AxisGroup group = context.GetAxisGroup(Axis);
            float[] values = [.. Enumerable.Range(0, 12).Select(static i => (float)i)];
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(values, values.Length));
            using DeviceArray<float> five = DeviceArray.Allocate<float>(context.Device, 5);
            using DeviceArray<float> output = DeviceArray.Allocate<float>(context.Device, r == 0 ? 4 : 6);
            using DeviceArray<double> doubles = DeviceArray.Allocate<double>(context.Device, 4);
            using DeviceArray<float> many = DeviceArray.Allocate<float>(context.Device, (ReproducibleSum.MaxDeposits / 2) + 1);
            using DeviceArray<float> one = DeviceArray.Allocate<float>(context.Device, 1);
            errors[r] =
            [
                Record.Exception(() => context.AllReduceContributions(x, five, ReduceOp.Sum, group)),
                Record.Exception(() => context.AllReduceContributions(x, output, ReduceOp.Max, group)),
                Record.Exception(() => context.AllReduceContributions(doubles, doubles, ReduceOp.Sum, group)),
                Record.Exception(() => context.AllReduceContributions(x, output, ReduceOp.Sum, group)),
                Record.Exception(() => context.AllReduceContributions(many, one, ReduceOp.Sum, group)),
            ];
            unchanged[r] = x.ToArray().SequenceEqual(values);
        });

        foreach (Exception?[] rank in errors)
        {
            Assert.Contains("whole blocks of the output's 5 elements", Assert.IsType<ArgumentException>(rank[0]).Message, StringComparison.Ordinal);
            Assert.IsType<ArgumentOutOfRangeException>(rank[1]);
            Assert.Contains("Single or Half", Assert.IsType<ArgumentException>(rank[2]).Message, StringComparison.Ordinal);

            // 3 blocks of 4 against 2 blocks of 6: the participants disagree on the element counts.
            Assert.Contains("element count", Assert.IsType<ArgumentException>(rank[3]).Message, StringComparison.Ordinal);
            Assert.Contains("make 16386 contributions per element", Assert.IsType<ArgumentException>(rank[4]).Message, StringComparison.Ordinal);
        }

        Assert.All(unchanged, Assert.True);
    });

    /// <summary>The sum (scaled) of every contribution through one state on the provider's first device.</summary>
    private static float[] OneState(DeviceProvider provider, IEnumerable<float[]> contributions, double scale)
    {
        Device device = provider.Devices[0];
        float[][] all = [.. contributions];
        using var state = ReproducibleSumState.Create(device, all[0].Length);
        foreach (float[] contribution in all)
        {
            using DeviceArray<float> values = DeviceArray.FromHost(device, new HostArray<float>(contribution, contribution.Length));
            state.Deposit(values.Buffer);
        }

        using DeviceArray<float> output = DeviceArray.Allocate<float>(device, all[0].Length);
        state.Finalize(output.Buffer, scale);
        return output.ToArray();
    }

    private static float[] PlainSum(IEnumerable<float[]> contributions)
    {
        var sum = new float[Length];
        foreach (float[] contribution in contributions)
        {
            for (int i = 0; i < Length; i++)
            {
                sum[i] += contribution[i];
            }
        }

        return sum;
    }

    private static float[] Values(int contribution)
    {
        ulong state = 0x9E3779B97F4A7C15UL * (ulong)(contribution + 1);
        var values = new float[Length];
        for (int i = 0; i < Length; i++)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            float magnitude = MathF.ScaleB(1f + ((state >> 40) / (float)(1UL << 24)), (int)((state >> 8) % 41) - 20);
            values[i] = (state & 1) == 0 ? magnitude : -magnitude;
        }

        return values;
    }

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];
}
