using Artifex.Cpu.Kernels;

namespace Artifex.Cpu.Tests.Reproducible;

/// <summary>
/// The window check that runs before every reproducible reduction, against a plain scan: it compares magnitudes as
/// integers 64 values at a time, so NaN (whose bits exceed the limit too) must still pass, and the first violation must
/// be named even when a block before it held only NaN. "Determinism" in the name: CI reruns these at every SIMD width.
/// </summary>
public sealed class ReproducibleDeterminismWindowGuardTests
{
    public static TheoryData<int> Lengths => new() { 0, 1, 63, 64, 65, 127, 128, 200, 1000 };

    [Theory]
    [MemberData(nameof(Lengths))]
    public unsafe void FindOutsideWindow_RandomPlacements_MatchesAPlainScan(int length)
    {
        var random = new Random(length + 11);
        float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1073741952f, -2147483648f, 1073741824f, -1073741824f];
        for (int trial = 0; trial < 200; trial++)
        {
            float[] values = [.. Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() - 0.5) * 1e6))];
            int placed = length == 0 ? 0 : random.Next(0, 4);
            for (int p = 0; p < placed; p++)
            {
                values[random.Next(length)] = specials[random.Next(specials.Length)];
            }

            fixed (float* pointer = values)
            {
                Assert.Equal(PlainScan(values), ReproducibleKernels.FindOutsideWindow(pointer, length));
            }
        }
    }

    [Fact]
    public unsafe void FindOutsideWindow_NaNBlocksBeforeAViolation_NamesTheViolation()
    {
        float[] values = new float[300];
        Array.Fill(values, float.NaN, 0, 128);                 // two whole NaN blocks: flagged, then passed value by value
        values[150] = -float.PositiveInfinity;
        values[299] = 1e30f;
        fixed (float* pointer = values)
        {
            Assert.Equal(150, ReproducibleKernels.FindOutsideWindow(pointer, values.Length));
            Assert.Equal(-1, ReproducibleKernels.FindOutsideWindow(pointer, 150));
            Assert.Equal(299 - 151, ReproducibleKernels.FindOutsideWindow(pointer + 151, values.Length - 151));
        }
    }

    [Fact]
    public unsafe void FindOutsideWindow_TheLimitItselfPasses_TheNextFloatDoesNot()
    {
        float[] values = new float[130];
        Array.Fill(values, -ReproducibleSum.MaxMagnitude);
        fixed (float* pointer = values)
        {
            Assert.Equal(-1, ReproducibleKernels.FindOutsideWindow(pointer, values.Length));
            values[129] = MathF.BitIncrement(ReproducibleSum.MaxMagnitude);
            Assert.Equal(129, ReproducibleKernels.FindOutsideWindow(pointer, values.Length));
        }
    }

    private static long PlainScan(float[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (Math.Abs(values[i]) > ReproducibleSum.MaxMagnitude)
            {
                return i;
            }
        }

        return -1;
    }
}
