using System.Runtime.InteropServices;

namespace Artifex.Cpu.Tests.Reproducible;

/// <summary>
/// The data generator and hash of the C reference of the reproducible sum (reprosum.c, <c>verify</c>), re-implemented
/// from its description so that the managed implementation can be checked against the reference's golden hash.
/// </summary>
/// <remarks>
/// xorshift64 with shifts 13, 7, 17, seeded with 0x9E3779B97F4A7C15; element-major (for each element, one draw per
/// contribution). A value has a random sign, a random 23-bit mantissa and an exponent in [−30, 8]; on every 16th element
/// each odd contribution is replaced by the float sum <c>−previous + 2^−40</c>, an exact cancellation pair.
/// </remarks>
internal static class ReproGenerator
{
    /// <summary>The reference's seed.</summary>
    public const ulong Seed = 0x9E3779B97F4A7C15UL;

    /// <summary>The contributions per element in the reference's check.</summary>
    public const int Contributions = 8;

    /// <summary>The element count of the reference's check: 1 Mi.</summary>
    public const int GoldenLength = 1 << 20;

    /// <summary>
    /// The FNV-1a 64 hash of the PR3 v2 reproducible sum of the golden data (confirmed by an independent C implementation
    /// of v2; v1 gave 6c1a3de7f5004002).
    /// </summary>
    public const ulong GoldenHash = 0x7be47f2d2fe5c9cbUL;

    /// <summary>The seed of the reference's shuffles.</summary>
    public const ulong ShuffleSeed = 12345;

    private static readonly Lazy<float[][]> s_golden = new(() => Generate(Contributions, GoldenLength, Seed));

    /// <summary>Gets the golden data: 8 contributions of 1 Mi elements each (shared; never modify).</summary>
    public static float[][] Golden => s_golden.Value;

    /// <summary>Advances an xorshift64 (13, 7, 17) state and returns the new state.</summary>
    /// <param name="state">The generator state.</param>
    /// <returns>The next value.</returns>
    public static ulong Next(ref ulong state)
    {
        ulong x = state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state = x;
        return x;
    }

    /// <summary>Generates <paramref name="contributions"/> arrays of <paramref name="length"/> gradient-like values.</summary>
    /// <param name="contributions">The number of contributions per element.</param>
    /// <param name="length">The element count.</param>
    /// <param name="seed">The generator seed.</param>
    /// <returns>One array per contribution.</returns>
    public static float[][] Generate(int contributions, int length, ulong seed)
    {
        var x = new float[contributions][];
        for (int c = 0; c < contributions; c++)
        {
            x[c] = new float[length];
        }

        float cancellation = BitConverter.Int32BitsToSingle((127 - 40) << 23); // 2^-40
        ulong state = seed;
        for (int i = 0; i < length; i++)
        {
            for (int c = 0; c < contributions; c++)
            {
                ulong r = Next(ref state);
                uint sign = (uint)(r >> 63) << 31;
                uint exponent = 127 - 30 + (uint)((r >> 40) % 39);
                uint mantissa = (uint)r & 0x7FFFFF;
                float value = BitConverter.UInt32BitsToSingle(sign | (exponent << 23) | mantissa);
                if ((i & 15) == 0 && (c & 1) == 1)
                {
                    value = -x[c - 1][i] + cancellation;
                }

                x[c][i] = value;
            }
        }

        return x;
    }

    /// <summary>Shuffles in place with the reference's Fisher–Yates (from the end, index = next % (i + 1)).</summary>
    /// <param name="values">The values.</param>
    /// <param name="state">The generator state.</param>
    public static void Shuffle(int[] values, ref ulong state)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = (int)(Next(ref state) % (ulong)(i + 1));
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>
    /// FNV-1a 64 over the bytes of the floats (little-endian, as the reference hashes its output buffer), with the
    /// reference's offset basis 1469598103934665603 — not the standard 14695981039346656037 (one digit shorter): the
    /// golden hash depends on it.
    /// </summary>
    /// <param name="values">The values.</param>
    /// <returns>The hash.</returns>
    public static ulong Fnv1a(ReadOnlySpan<float> values)
    {
        ulong hash = 1469598103934665603UL;
        foreach (byte b in MemoryMarshal.AsBytes(values))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }

        return hash;
    }

    /// <summary>Formats a hash as the reference prints it.</summary>
    /// <param name="hash">The hash.</param>
    /// <returns>16 lower-case hex digits.</returns>
    public static string Hex(ulong hash) => hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
}
