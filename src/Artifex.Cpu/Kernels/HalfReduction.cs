using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Artifex.Cpu.Kernels;

/// <summary>
/// The Half sum and mean of the collectives, with the bits of Half's own operators (<c>(Half)((float)x + (float)y)</c>
/// after every add, in rank order; a mean is <c>(Half)((float)sum / (float)(Half)n)</c>). It is the wire format of
/// compressed gradients, so it must run at memory speed, not at the scalar Half operators' pace.
/// <para>
/// .NET has no Half vectors and no F16C intrinsics, so the AVX-512 path converts with integer bit moves in a
/// <em>scaled</em> Single domain: a Half's exponent and mantissa bits are placed where Single keeps them, unbiased
/// (value × 2⁻¹¹²), so widening is a shift and a mask, subnormal Halves become subnormal Singles exactly, and a sum is
/// rounded to Half precision by rounding the Single's bit pattern at bit 13 — the same integer rounding for subnormal
/// and normal Halves, since the denormal encoding is linear. Adds of scaled values round exactly like adds of the real
/// values: a sum below Half's normal range is a multiple of 2⁻²⁴ under 2⁻¹⁴, which a scaled denormal holds exactly.
/// Infinities and NaNs are kept as real Single ones (exponent all ones), so adds give IEEE's ∞ − ∞ = NaN and keep a
/// NaN's payload (the new term's when both are NaN, as the scalar operators do); a sum that rounds to 2¹⁶ or more is
/// made ∞ by scaling it out of Single's range and back. Every result was checked against the scalar operators for all
/// 2³² pairs of Halves (sum, mean, and the rounded accumulator that longer sums carry).
/// </para>
/// </summary>
internal static unsafe class HalfReduction
{
    /// <summary>Halves per AVX-512 iteration: one 64-byte vector of Halves, two of Singles.</summary>
    private const int Step = 32;
    private const int Block = 512;

    /// <summary>Per 128-bit lane, the high words of the unpack-low then the unpack-high dwords: undoes <see cref="Widen"/>'s order.</summary>
    private static ReadOnlySpan<ushort> PackOrder =>
    [
        1, 3, 5, 7, 33, 35, 37, 39, 9, 11, 13, 15, 41, 43, 45, 47,
        17, 19, 21, 23, 49, 51, 53, 55, 25, 27, 29, 31, 57, 59, 61, 63,
    ];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Reduce(bool mean, ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count) =>
        Reduce(mean, inputs, inOffset, outputs, outOffset, count, Vector512.IsHardwareAccelerated && Avx512BW.IsSupported);

    /// <summary><see cref="Reduce(bool, ReadOnlySpan{nint}, long, ReadOnlySpan{nint}, long, long)"/>, the AVX-512 path only where <paramref name="avx512"/> (tests run both).</summary>
    internal static void Reduce(bool mean, ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count, bool avx512)
    {
        if (inputs.Length == 1 && !mean)
        {
            // A sum of one is the input itself, bit for bit (no conversion, so signaling NaNs stay signaling).
            CollectiveKernels.CopyToAll(inputs[0], inOffset * sizeof(Half), outputs, outOffset * sizeof(Half), count * sizeof(Half));
            return;
        }

        long done = !avx512 ? ReduceWidened(mean, inputs, inOffset, outputs, outOffset, count) : (inputs.Length, outputs.Length) switch
        {
            (2, 2) => Reduce512Pair(mean, inputs, inOffset, outputs, outOffset, count),
            (4, 4) => Reduce512Quad(mean, inputs, inOffset, outputs, outOffset, count),
            _ => Reduce512(mean, inputs, inOffset, outputs, outOffset, count),
        };
        Half divisor = mean ? (Half)inputs.Length : Half.Zero;
        CollectiveKernels.ReduceScalar<Half, AddOperator<Half>>(inputs, inOffset, outputs, outOffset, done, count, divisor);
    }

    /// <summary>Two participants with every pointer in a register, as in <see cref="CollectiveKernels"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long Reduce512Pair(bool mean, ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count)
    {
        short* a = (short*)inputs[0] + inOffset, b = (short*)inputs[1] + inOffset;
        short* x = (short*)outputs[0] + outOffset, y = (short*)outputs[1] + outOffset;
        Vector512<float> divisor = Vector512.Create((float)(Half)2);
        long i = 0;
        for (; i <= count - Step; i += Step)
        {
            Widen(Vector512.Load(a + i), out Vector512<float> lo, out Vector512<float> hi);
            Widen(Vector512.Load(b + i), out Vector512<float> lo1, out Vector512<float> hi1);
            Vector512<short> result = Narrow(Add(lo1, lo), Add(hi1, hi), mean, divisor);
            Vector512.Store(result, x + i);
            Vector512.Store(result, y + i);
        }

        return i;
    }

    /// <summary>Four participants with every pointer in a local.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long Reduce512Quad(bool mean, ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count)
    {
        short* a = (short*)inputs[0] + inOffset, b = (short*)inputs[1] + inOffset, c = (short*)inputs[2] + inOffset, e = (short*)inputs[3] + inOffset;
        short* w = (short*)outputs[0] + outOffset, x = (short*)outputs[1] + outOffset, y = (short*)outputs[2] + outOffset, z = (short*)outputs[3] + outOffset;
        Vector512<float> divisor = Vector512.Create((float)(Half)4);
        long i = 0;
        for (; i <= count - Step; i += Step)
        {
            Widen(Vector512.Load(a + i), out Vector512<float> lo, out Vector512<float> hi);
            Widen(Vector512.Load(b + i), out Vector512<float> lo1, out Vector512<float> hi1);
            lo = Round(Add(lo1, lo));
            hi = Round(Add(hi1, hi));
            Widen(Vector512.Load(c + i), out lo1, out hi1);
            lo = Round(Add(lo1, lo));
            hi = Round(Add(hi1, hi));
            Widen(Vector512.Load(e + i), out lo1, out hi1);
            Vector512<short> result = Narrow(Add(lo1, lo), Add(hi1, hi), mean, divisor);
            Vector512.Store(result, w + i);
            Vector512.Store(result, x + i);
            Vector512.Store(result, y + i);
            Vector512.Store(result, z + i);
        }

        return i;
    }

    /// <summary>Any number of participants (two or more, or one for a mean); returns the first element it did not do.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long Reduce512(bool mean, ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count)
    {
        Vector512<float> divisor = Vector512.Create((float)(Half)inputs.Length);
        long i = 0;
        for (; i <= count - Step; i += Step)
        {
            Widen(Vector512.Load((short*)inputs[0] + inOffset + i), out Vector512<float> lo, out Vector512<float> hi);
            for (int k = 1; k < inputs.Length; k++)
            {
                if (k > 1)
                {
                    lo = Round(lo);
                    hi = Round(hi);
                }

                Widen(Vector512.Load((short*)inputs[k] + inOffset + i), out Vector512<float> lo1, out Vector512<float> hi1);
                lo = Add(lo1, lo);
                hi = Add(hi1, hi);
            }

            Vector512<short> result = Narrow(lo, hi, mean, divisor);
            for (int k = 0; k < outputs.Length; k++)
            {
                Vector512.Store(result, (short*)outputs[k] + outOffset + i);
            }
        }

        return i;
    }

    /// <summary>
    /// 32 Halves to 32 scaled Singles (see the class remarks), in the order of a per-lane word unpack. Each Half's top
    /// word is built in 16-bit lanes, 32 at a time: <c>sign 000 exponent mantissa[9..3]</c> by an arithmetic shift, and
    /// an exponent of all ones (∞, NaN) made Single's all-ones exponent; its low word is <c>mantissa[2..0] &lt;&lt; 13</c>.
    /// A NaN keeps its payload shifted up by 13, as the scalar widening does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Widen(Vector512<short> halves, out Vector512<float> lo, out Vector512<float> hi)
    {
        Vector512<short> exponent = Vector512.Create((short)0x7C00);
        Vector512<short> special = Vector512.Equals(halves & exponent, exponent);

        // One bit select: sign, exponent and mantissa from the shift, bits 14..12 (0x7000) set where special.
        Vector512<short> top = Vector512.ConditionalSelect(Vector512.Create(unchecked((short)0x8FFF)), Vector512.ShiftRightArithmetic(halves, 3), special);
        Vector512<short> bottom = Vector512.ShiftLeft(halves, 13);
        lo = Avx512BW.UnpackLow(bottom, top).AsSingle();
        hi = Avx512BW.UnpackHigh(bottom, top).AsSingle();
    }

    /// <summary>
    /// <c>term + sum</c> with <paramref name="term"/> as VADDPS's first source, whose NaN wins when both are NaN — as in
    /// the scalar operator's code, where the right operand's NaN is kept. The rounding-mode overload (round to nearest
    /// even, the default) is used because the JIT swapped the operands of a plain <c>+</c> in one of the loops below;
    /// the tests pin the NaN choice for two to five participants.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Add(Vector512<float> term, Vector512<float> sum) => Avx512F.Add(term, sum, FloatRoundingMode.ToEven);

    /// <summary>
    /// A scaled sum rounded to Half precision and kept scaled, for the next add: rounded to nearest even at bit 13 of
    /// its pattern (∞ and NaNs, whose low 13 bits are zero, pass), then scaled by 2²²⁴ and back with VSCALEFPS, which
    /// overflows to ∞ exactly the sums that rounded to 2¹⁶ (scaled) or more — Half's ∞ — and is exact for the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Round(Vector512<float> sum)
    {
        Vector512<uint> bits = sum.AsUInt32();
        bits = (bits + Vector512.Create(0xFFFu) + ((bits >> 13) & Vector512<uint>.One)) & Vector512.Create(0xFFFF_E000u);
        Vector512<float> up = Avx512F.Scale(bits.AsSingle(), Vector512.Create(224f));
        return Avx512F.Scale(up, Vector512.Create(-224f));
    }

    /// <summary>
    /// A scaled sum rounded to nearest even at bit 13 of its pattern (garbage below), sign kept: first clamped to
    /// ±65520 (scaled), which rounds to 2¹⁶, Half's ∞ — so do larger sums and ∞ itself. VMINPS/VMAXPS return their
    /// second operand when either is NaN, so NaNs pass; their low 13 bits are zero (widened Halves, the default NaN),
    /// so the rounding leaves their payload. (VRANGEPS would not do: it returns the other operand of a quiet NaN.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> RoundBits(Vector512<float> sum)
    {
        Vector512<float> limit = Vector512.Create(BitConverter.UInt32BitsToSingle(0x0F7F_F000));
        Vector512<uint> clamped = Avx512F.Max(-limit, Avx512F.Min(limit, sum)).AsUInt32();
        return clamped + Vector512.Create(0xFFFu) + ((clamped >> 13) & Vector512<uint>.One);
    }

    /// <summary>Two scaled sums to 32 Halves in input order: rounded, divided for a mean, packed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Narrow(Vector512<float> lo, Vector512<float> hi, bool mean, Vector512<float> divisor)
    {
        Vector512<uint> a = mean ? MeanBits(Round(lo), divisor) : RoundBits(lo);
        Vector512<uint> b = mean ? MeanBits(Round(hi), divisor) : RoundBits(hi);

        // Bits 28..13 (exponent, mantissa) to the top word, the sign kept at bit 31: the top word is the Half.
        Vector512<uint> sign = Vector512.Create(0x8000_0000u);
        a = Vector512.ConditionalSelect(sign, a, a << 3);
        b = Vector512.ConditionalSelect(sign, b, b << 3);
        return Avx512BW.PermuteVar32x16x2(a.AsInt16(), Vector512.Create(PackOrder).AsInt16(), b.AsInt16());
    }

    /// <summary>
    /// A rounded scaled sum divided by the participant count as Half's operator does, in real Singles (the quotient is
    /// rounded to Single first), then rounded to Half precision by adding and subtracting 2^(exponent + 13), exponent
    /// at least Half's −14, and scaled back — exact, as the rounded value is a Half. Returns the scaled pattern.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> MeanBits(Vector512<float> sum, Vector512<float> divisor)
    {
        // × 2¹¹² back to real Singles: exact, as the sum is a Half.
        Vector512<float> quotient = sum * Vector512.Create(BitConverter.UInt32BitsToSingle(0x7780_0000)) / divisor;

        // 65520 rounds to 2¹⁶, Half's ∞; NaNs pass VMINPS as its second operand.
        Vector512<float> magnitude = Avx512F.Min(Vector512.Create(65520f), Vector512.Abs(quotient));
        Vector512<uint> exponent = Vector512.Max(magnitude.AsUInt32(), Vector512.Create(0x3880_0000u)) & Vector512.Create(0x7F80_0000u);
        Vector512<float> shift = (exponent + Vector512.Create(0x0680_0000u)).AsSingle();
        Vector512<float> rounded = (magnitude + shift - shift) * Vector512.Create(BitConverter.UInt32BitsToSingle(0x0780_0000)); // × 2⁻¹¹²
        return Vector512.ConditionalSelect(Vector512.Create(0x8000_0000u), quotient.AsUInt32(), rounded.AsUInt32());
    }

    /// <summary>
    /// Without AVX-512: blocks widened to Single with <see cref="TensorPrimitives"/>, added there and rounded back to
    /// Half after every add. The new term is the first operand of the add, as in the scalar operator's code, so a NaN
    /// + NaN keeps the same payload. Returns the first element it did not do (the scalar kernel does the rest).
    /// </summary>
    private static long ReduceWidened(bool mean, ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count)
    {
        Span<float> sum = stackalloc float[Block];
        Span<float> term = stackalloc float[Block];
        Span<Half> rounded = stackalloc Half[Block];
        int n = inputs.Length;
        long start = 0;
        for (; start <= count - Block; start += Block)
        {
            TensorPrimitives.ConvertToSingle(Input(inputs[0], inOffset + start), sum);
            for (int k = 1; k < n; k++)
            {
                TensorPrimitives.ConvertToSingle(Input(inputs[k], inOffset + start), term);
                TensorPrimitives.Add(term, sum, sum);
                TensorPrimitives.ConvertToHalf(sum, rounded);
                if (k < n - 1 || mean)
                {
                    TensorPrimitives.ConvertToSingle(rounded, sum);
                }
            }

            if (mean)
            {
                TensorPrimitives.Divide(sum, (float)(Half)n, sum);
                TensorPrimitives.ConvertToHalf(sum, rounded);
            }

            foreach (nint output in outputs)
            {
                rounded.CopyTo(new Span<Half>((Half*)output + outOffset + start, Block));
            }
        }

        return start;
    }

    private static ReadOnlySpan<Half> Input(nint input, long offset) => new((Half*)input + offset, Block);
}
