using System.Numerics;

namespace Artifex.Cpu.Tests.Reproducible;

/// <summary>
/// Exact sums of floats: every float is an integer multiple of 2^−149, so a sum scaled by 2^149 is a
/// <see cref="BigInteger"/>, and its correct rounding to float can be computed without floating point.
/// </summary>
internal static class ExactSum
{
    /// <summary>The scaled value of a finite float: x · 2^149.</summary>
    /// <param name="x">A finite float.</param>
    /// <returns>The integer.</returns>
    public static BigInteger Scaled(float x)
    {
        int bits = BitConverter.SingleToInt32Bits(x);
        int exponent = (bits >> 23) & 0xFF;
        int mantissa = bits & 0x7FFFFF;
        if (exponent == 0xFF)
        {
            throw new ArgumentOutOfRangeException(nameof(x), x, "Not finite.");
        }

        BigInteger magnitude = exponent == 0 ? mantissa : (BigInteger)(mantissa | (1 << 23)) << (exponent - 1);
        return bits < 0 ? -magnitude : magnitude;
    }

    /// <summary>The exact sum of one element over the contributions, scaled by 2^149.</summary>
    /// <param name="contributions">The arrays.</param>
    /// <param name="index">The element.</param>
    /// <returns>The integer.</returns>
    public static BigInteger Of(IReadOnlyList<float[]> contributions, int index)
    {
        BigInteger sum = BigInteger.Zero;
        foreach (float[] contribution in contributions)
        {
            sum += Scaled(contribution[index]);
        }

        return sum;
    }

    /// <summary>Rounds value · 2^−149 / <paramref name="divisor"/> to the nearest float, ties to even (+0 for zero).</summary>
    /// <param name="value">The scaled value.</param>
    /// <param name="divisor">An exact positive divisor (1 for a sum, N for a mean).</param>
    /// <returns>The correctly rounded float.</returns>
    public static float RoundToFloat(BigInteger value, int divisor = 1)
    {
        if (value.IsZero)
        {
            return 0f;
        }

        bool negative = value.Sign < 0;
        BigInteger magnitude = BigInteger.Abs(value);

        // Work with magnitude / divisor · 2^−149: scale up by 2^k so the quotient has at least 26 bits, keep the remainder.
        int k = Math.Max(0, 26 + (int)BigInteger.Log(divisor, 2) + 2 - (int)magnitude.GetBitLength());
        BigInteger numerator = magnitude << k;
        BigInteger quotient = BigInteger.DivRem(numerator, divisor, out BigInteger remainder);
        bool sticky = !remainder.IsZero;

        // The value is quotient · 2^(−149−k) (+ a fraction flagged by sticky). Keep 24 significant bits, but never go
        // below 2^−149 (subnormals).
        int length = (int)quotient.GetBitLength();
        int shift = Math.Max(length - 24, k);
        BigInteger kept = quotient >> shift;
        BigInteger rest = quotient - (kept << shift);
        BigInteger half = shift == 0 ? BigInteger.Zero : BigInteger.One << (shift - 1);
        bool roundUp = shift != 0 && (rest > half || (rest == half && (sticky || !kept.IsEven)));
        if (shift == 0 && sticky)
        {
            throw new InvalidOperationException("Unreachable: k makes shift positive whenever a remainder exists.");
        }

        if (roundUp)
        {
            kept += 1;
        }

        double result = Math.ScaleB((double)kept, shift - k - 149);
        float single = (float)result; // exact: kept has at most 25 bits and the exponent is a float's
        return negative ? -single : single;
    }

    /// <summary>Whether <paramref name="result"/> is a faithful rounding of value · 2^−149 / divisor (one of the two floats that bracket it).</summary>
    /// <param name="value">The scaled exact value.</param>
    /// <param name="result">The float to judge.</param>
    /// <param name="divisor">The exact divisor.</param>
    /// <returns>True when faithful.</returns>
    public static bool IsFaithful(BigInteger value, float result, int divisor = 1)
    {
        float nearest = RoundToFloat(value, divisor);
        if (BitConverter.SingleToInt32Bits(result) == BitConverter.SingleToInt32Bits(nearest))
        {
            return true;
        }

        // Compare nearest · divisor with value (both scaled by 2^149).
        int side = (Scaled(nearest) * divisor).CompareTo(value);
        return side switch
        {
            0 => false,
            < 0 => result == MathF.BitIncrement(nearest),
            _ => result == MathF.BitDecrement(nearest),
        };
    }
}
