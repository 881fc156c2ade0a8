using System.Numerics;

namespace Artifex.Cpu.Tests.Reproducible;

/// <summary>
/// Accuracy of <see cref="ReproducibleSum.Version"/> against exact sums (every float is a multiple of 2^−149, so
/// <see cref="BigInteger"/> sums are exact): faithful (one of the two floats around the exact value) everywhere and
/// correctly rounded in at least 99.9 % of elements, through the fused all-reduce and through states; and bitwise equal
/// to the scalar oracle at every length (vector bodies and tails). "Determinism" in the name: CI reruns it at every SIMD width.
/// </summary>
public sealed class ReproducibleDeterminismAccuracyTests
{
    private const double MinCorrectlyRounded = 0.999;

    /// <summary>
    /// Kinds and participant counts where the scheme as specified meets the bound. Two or three contributions of close
    /// exponents (exact ties) and heavy cancellation do not: see <see cref="ReproducibleDeterminismResidualTests"/>.
    /// </summary>
    public static TheoryData<string, int> FusedCases => new()
    {
        { "gradient", 5 }, { "gradient", 8 }, { "wide", 5 }, { "wide", 8 },
        { "integers", 2 }, { "integers", 3 }, { "integers", 8 }, { "pairs", 5 }, { "pairs", 8 },
    };

    public static TheoryData<string, int> StateCases => new()
    {
        { "gradient", 17 }, { "gradient", 100 }, { "wide", 17 }, { "wide", 100 },
        { "integers", 17 }, { "integers", 100 }, { "pairs", 17 }, { "pairs", 100 },
    };

    [Theory]
    [MemberData(nameof(FusedCases))]
    public void FusedAllReduce_RandomCases_FaithfulAndAlmostAlwaysCorrectlyRounded(string kind, int n)
    {
        const int length = 4099;
        float[][] x = Values(kind, n, length, seed: (ulong)(kind.Length * 1000) + (ulong)n);
        using var provider = new CpuProvider(n);
        float[][] results = ReproHarness.AllReduce(provider, x, ReduceOp.Sum, Determinism.Reproducible);
        int[] expected = ReproHarness.Bits(PR3Reference.Sum(x));
        Assert.All(results, r => Assert.Equal(expected, ReproHarness.Bits(r)));
        CheckAccuracy(x, results[0], kind);
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Theory]
    [MemberData(nameof(StateCases))]
    public void StateDeposits_RandomCases_FaithfulAndAlmostAlwaysCorrectlyRounded(string kind, int k)
    {
        const int length = 1031;
        float[][] x = Values(kind, k, length, seed: (ulong)(kind.Length * 7919) + (ulong)k);
        using var provider = new CpuProvider(1);
        Device device = provider.Devices[0];
        float[] result;
        using (ReproducibleSumState state = ReproducibleSumState.Create(device, length))
        {
            foreach (float[] contribution in x)
            {
                using DeviceArray<float> values = DeviceArray.FromHost(device, new HostArray<float>(contribution, length));
                state.Deposit(values.Buffer);
            }

            Assert.Equal(k, state.DepositCount);
            using DeviceArray<float> output = DeviceArray.Allocate<float>(device, length);
            state.Finalize(output.Buffer);
            result = output.ToArray();
        }

        Assert.Equal(ReproHarness.Bits(PR3Reference.Sum(x)), ReproHarness.Bits(result));
        CheckAccuracy(x, result, kind);
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void Lengths_VectorBodiesAndTails_BitwiseEqualToOracleOnBothPaths()
    {
        using var provider = new CpuProvider(3);
        Device device = provider.Devices[1];
        foreach (int length in new[] { 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 257 })
        {
            float[][] x = Values("wide", 3, length, seed: (ulong)length);
            int[] expected = ReproHarness.Bits(PR3Reference.Sum(x));
            float[][] fused = ReproHarness.AllReduce(provider, x, ReduceOp.Sum, Determinism.Reproducible, inPlace: (length & 1) == 0);
            Assert.All(fused, r => Assert.Equal(expected, ReproHarness.Bits(r)));

            double[] oracleState = PR3Reference.Empty(length);
            using ReproducibleSumState state = ReproducibleSumState.Create(device, length);
            foreach (float[] contribution in x)
            {
                using DeviceArray<float> values = DeviceArray.FromHost(device, new HostArray<float>(contribution, length));
                state.Deposit(values.Buffer);
                PR3Reference.Deposit(oracleState, contribution);
            }

            Assert.Equal(ReproHarness.Bits(oracleState), ReproHarness.Bits(ReproHarness.Raw(state)));
            using DeviceArray<float> output = DeviceArray.Allocate<float>(device, length);
            state.Finalize(output.Buffer);
            Assert.Equal(expected, ReproHarness.Bits(output.ToArray()));
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void PlainFloat_OnTheSameData_IsOftenNotCorrectlyRounded()
    {
        // Sharpness: plain float summation of the same kind of data misses the bound by far.
        float[][] x = Values("gradient", 8, 4099, seed: 3);
        float[] plain = PR3Reference.PlainSum(x);
        int correct = 0;
        for (int i = 0; i < plain.Length; i++)
        {
            correct += BitConverter.SingleToInt32Bits(plain[i]) == BitConverter.SingleToInt32Bits(ExactSum.RoundToFloat(ExactSum.Of(x, i))) ? 1 : 0;
        }

        Assert.True(correct < 0.9 * plain.Length, $"plain float was correctly rounded in {correct} of {plain.Length} elements");
    }

    /// <summary>
    /// Random contributions of a kind ("gradient": exponents in [−30, 8]; "wide": [−50, 29]; "integers": |x| ≤ 10^6;
    /// "pairs": exact ± pairs; "cancel": the last contribution nearly cancels the others); every value inside the window,
    /// with no bits below 2^−82.
    /// </summary>
    /// <param name="kind">The kind.</param>
    /// <param name="count">The contributions.</param>
    /// <param name="length">The elements.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The contributions.</returns>
    internal static float[][] Values(string kind, int count, int length, ulong seed)
    {
        ulong rng = seed * 0x9E3779B97F4A7C15UL | 1;
        var x = new float[count][];
        for (int c = 0; c < count; c++)
        {
            x[c] = new float[length];
            for (int i = 0; i < length; i++)
            {
                ulong r = ReproGenerator.Next(ref rng);
                x[c][i] = kind switch
                {
                    "gradient" => Random(r, -30, 8),
                    "wide" => Random(r, -50, 29),
                    "integers" => (float)((long)(r % 2_000_001) - 1_000_000),
                    _ => Random(r, -20, 20),
                };
            }
        }

        if (string.Equals(kind, "pairs", StringComparison.Ordinal))
        {
            // Exact ± pairs (as in the C reference's data) and, for an odd count, one small value left over.
            for (int c = 1; c < count; c += 2)
            {
                for (int i = 0; i < length; i++)
                {
                    x[c][i] = -x[c - 1][i];
                }
            }

            if (count % 2 == 1)
            {
                for (int i = 0; i < length; i++)
                {
                    x[count - 1][i] = Random(ReproGenerator.Next(ref rng), -40, -25);
                }
            }
        }

        if (string.Equals(kind, "cancel", StringComparison.Ordinal))
        {
            // The last contribution nearly cancels the float sum of the others: the exact result is tiny and lies
            // far below the partial sums, where plain float summation loses everything.
            for (int i = 0; i < length; i++)
            {
                float partial = 0;
                for (int c = 0; c < count - 1; c++)
                {
                    partial += x[c][i];
                }

                x[count - 1][i] = -partial + Random(ReproGenerator.Next(ref rng), -40, -25);
            }
        }

        return x;
    }

    private static float Random(ulong r, int minExponent, int maxExponent)
    {
        uint sign = (uint)(r >> 63) << 31;
        uint exponent = (uint)(127 + minExponent + (int)((r >> 40) % (ulong)(maxExponent - minExponent + 1)));
        uint mantissa = (uint)r & 0x7FFFFF;
        return BitConverter.UInt32BitsToSingle(sign | (exponent << 23) | mantissa);
    }

    /// <summary>Asserts faithful everywhere and correctly rounded in at least 99.9 % of elements (all, for integers).</summary>
    /// <param name="x">The contributions.</param>
    /// <param name="result">The reproducible sums.</param>
    /// <param name="kind">The data kind.</param>
    internal static void CheckAccuracy(float[][] x, float[] result, string kind)
    {
        int correct = 0;
        for (int i = 0; i < result.Length; i++)
        {
            BigInteger exact = ExactSum.Of(x, i);
            Assert.True(ExactSum.IsFaithful(exact, result[i]), $"{kind}[{i}]: {result[i]:R} is not a faithful rounding of the exact sum (nearest {ExactSum.RoundToFloat(exact):R})");
            correct += BitConverter.SingleToInt32Bits(result[i]) == BitConverter.SingleToInt32Bits(ExactSum.RoundToFloat(exact)) ? 1 : 0;
        }

        Assert.True(correct >= MinCorrectlyRounded * result.Length, $"{kind}: correctly rounded in {correct} of {result.Length} elements");
        if (string.Equals(kind, "integers", StringComparison.Ordinal))
        {
            Assert.Equal(result.Length, correct);
        }
    }
}
