using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Artifex.Cpu.Kernels;

/// <summary>
/// The PR3 v2 kernels (<see cref="ReproducibleSum"/>): the sticky-bit deposit with an exact residual into three biased double accumulators, the
/// finalize, the fused reproducible all-reduce, and the window check. Every path performs the same IEEE double additions
/// on each element, so Vector512, Vector256 and scalar code give the same bits.
/// </summary>
internal static unsafe class ReproducibleKernels
{
    private const double S0 = ReproducibleSum.Bias0;
    private const double S1 = ReproducibleSum.Bias1;
    private const double S2 = ReproducibleSum.Bias2;

    /// <summary>The index of the first value outside the window (|x| &gt; 2^30 or ±Inf; NaN passes), or −1.</summary>
    /// <remarks>
    /// Magnitudes are compared as integers, 64 values per step with one comparison (32 with Vector256; a quarter less
    /// time than a float comparison per vector, at every cache level); NaN bits also exceed the limit, so a flagged step
    /// is looked at again value by value, where NaN passes.
    /// </remarks>
    public static long FindOutsideWindow(float* values, long count)
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<uint> magnitude = Vector512.Create(0x7FFF_FFFFu);
            Vector512<uint> limit = Vector512.Create(BitConverter.SingleToUInt32Bits(ReproducibleSum.MaxMagnitude));
            for (; i + 64 <= count; i += 64)
            {
                uint* bits = (uint*)(values + i);
                Vector512<uint> largest = Vector512.Max(
                    Vector512.Max(Vector512.Load(bits) & magnitude, Vector512.Load(bits + 16) & magnitude),
                    Vector512.Max(Vector512.Load(bits + 32) & magnitude, Vector512.Load(bits + 48) & magnitude));
                if (Vector512.GreaterThanAny(largest, limit) && FindOutsideWindowScalar(values + i, 64) is long hit and >= 0)
                {
                    return i + hit;
                }
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<uint> magnitude = Vector256.Create(0x7FFF_FFFFu);
            Vector256<uint> limit = Vector256.Create(BitConverter.SingleToUInt32Bits(ReproducibleSum.MaxMagnitude));
            for (; i + 32 <= count; i += 32)
            {
                uint* bits = (uint*)(values + i);
                Vector256<uint> largest = Vector256.Max(
                    Vector256.Max(Vector256.Load(bits) & magnitude, Vector256.Load(bits + 8) & magnitude),
                    Vector256.Max(Vector256.Load(bits + 16) & magnitude, Vector256.Load(bits + 24) & magnitude));
                if (Vector256.GreaterThanAny(largest, limit) && FindOutsideWindowScalar(values + i, 32) is long hit and >= 0)
                {
                    return i + hit;
                }
            }
        }

        return FindOutsideWindowScalar(values + i, count - i) is long rest and >= 0 ? i + rest : -1;
    }

    private static long FindOutsideWindowScalar(float* values, long count)
    {
        for (long i = 0; i < count; i++)
        {
            if (Math.Abs(values[i]) > ReproducibleSum.MaxMagnitude)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The index of the first Half value that is ±Inf (every finite Half is inside the window), or −1.</summary>
    public static long FindOutsideWindow(Half* values, long count)
    {
        for (long i = 0; i < count; i++)
        {
            if (Half.IsInfinity(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    public static void Reset(double* state, long count)
    {
        new Span<double>(state, checked((int)count)).Fill(S0);
        new Span<double>(state + count, checked((int)count)).Fill(S1);
        new Span<double>(state + (2 * count), checked((int)count)).Fill(S2);
    }

    /// <summary>Adds (biased) or subtracts the level biases; exact for any reachable state.</summary>
    public static void SetBias(double* state, long count, bool biased)
    {
        double sign = biased ? 1 : -1;
        Shift(state, count, sign * S0);
        Shift(state + count, count, sign * S1);
        Shift(state + (2 * count), count, sign * S2);
    }

    /// <summary>A += B − σ per level: exact, and commutative in effect.</summary>
    public static void Merge(double* state, double* other, long count)
    {
        MergeLevel(state, other, count, S0);
        MergeLevel(state + count, other + count, count, S1);
        MergeLevel(state + (2 * count), other + (2 * count), count, S2);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Deposit(double* state, float* values, long count)
    {
        double* a0 = state;
        double* a1 = state + count;
        double* a2 = state + (2 * count);
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 8 <= count; i += 8)
            {
                Vector512<double> x = Vector512.WidenLower(Vector256.Load(values + i).ToVector512Unsafe());
                Vector512<double> l0 = Vector512.Load(a0 + i), l1 = Vector512.Load(a1 + i), l2 = Vector512.Load(a2 + i);
                Deposit512(x, ref l0, ref l1, ref l2);
                l0.Store(a0 + i);
                l1.Store(a1 + i);
                l2.Store(a2 + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 4 <= count; i += 4)
            {
                Vector256<double> x = Vector256.WidenLower(Vector128.Load(values + i).ToVector256Unsafe());
                Vector256<double> l0 = Vector256.Load(a0 + i), l1 = Vector256.Load(a1 + i), l2 = Vector256.Load(a2 + i);
                Deposit256(x, ref l0, ref l1, ref l2);
                l0.Store(a0 + i);
                l1.Store(a1 + i);
                l2.Store(a2 + i);
            }
        }

        for (; i < count; i++)
        {
            DepositScalar(values[i], ref a0[i], ref a1[i], ref a2[i]);
        }
    }

    public static void Deposit(double* state, Half* values, long count)
    {
        for (long i = 0; i < count; i++)
        {
            DepositScalar((double)values[i], ref state[i], ref state[count + i], ref state[(2 * count) + i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Finalize(double* state, float* output, long count, double scale)
    {
        double* a0 = state;
        double* a1 = state + count;
        double* a2 = state + (2 * count);
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 8 <= count; i += 8)
            {
                Vector256<float> r = Finalize512(Vector512.Load(a0 + i), Vector512.Load(a1 + i), Vector512.Load(a2 + i), scale);
                r.Store(output + i);
            }
        }

        for (; i < count; i++)
        {
            output[i] = FinalizeScalar(a0[i], a1[i], a2[i], scale);
        }
    }

    public static void Finalize(double* state, Half* output, long count, double scale)
    {
        for (long i = 0; i < count; i++)
        {
            double v = FinalizeDouble(state[i], state[count + i], state[(2 * count) + i], scale);
            output[i] = double.IsNaN(v) ? Half.NaN : (Half)v;
        }
    }

    /// <summary>
    /// The fused all-reduce: for each element, deposit the N inputs (any order gives the same bits; rank order is used),
    /// finalize with <paramref name="scale"/>, write every output. Inputs are read before any output of the same element is written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fused(ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count, double scale)
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            i = Fused512(inputs, inOffset, outputs, outOffset, count, scale);
            Vector512<double> s0 = Vector512.Create(S0), s1 = Vector512.Create(S1), s2 = Vector512.Create(S2);
            for (; i + 8 <= count; i += 8)
            {
                Vector512<double> l0 = s0, l1 = s1, l2 = s2;
                foreach (nint input in inputs)
                {
                    Vector512<double> x = Vector512.WidenLower(Vector256.Load((float*)input + inOffset + i).ToVector512Unsafe());
                    Deposit512(x, ref l0, ref l1, ref l2);
                }

                Vector256<float> r = Finalize512(l0, l1, l2, scale);
                foreach (nint output in outputs)
                {
                    r.Store((float*)output + outOffset + i);
                }
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            i = Fused256(inputs, inOffset, outputs, outOffset, count, scale);
        }

        for (; i < count; i++)
        {
            double l0 = S0, l1 = S1, l2 = S2;
            foreach (nint input in inputs)
            {
                DepositScalar(((float*)input)[inOffset + i], ref l0, ref l1, ref l2);
            }

            float r = FinalizeScalar(l0, l1, l2, scale);
            foreach (nint output in outputs)
            {
                ((float*)output)[outOffset + i] = r;
            }
        }
    }

    /// <summary>
    /// The Vector512 body of <see cref="Fused"/>: 32 elements per step (then 16), one load per input per 16 elements
    /// widened into independent deposit chains, and one narrowing store per output per 16 elements. Four chains keep more
    /// independent work in flight than two; with the multiply-add form of <see cref="Deposit512"/>, one core of a Zen 4
    /// host went from 45-47 to 42-46 µs (N = 8, 64 KiB) and 14.1 to 12.1-12.3 ms (N = 8, 16 MiB), same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long Fused512(ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count, double scale)
    {
        Vector512<double> s0 = Vector512.Create(S0), s1 = Vector512.Create(S1), s2 = Vector512.Create(S2);
        long i = 0;
        for (; i + 32 <= count; i += 32)
        {
            Vector512<double> a0 = s0, a1 = s1, a2 = s2, b0 = s0, b1 = s1, b2 = s2, c0 = s0, c1 = s1, c2 = s2, d0 = s0, d1 = s1, d2 = s2;
            foreach (nint input in inputs)
            {
                (Vector512<double> lower, Vector512<double> upper) = Vector512.Widen(Vector512.Load((float*)input + inOffset + i));
                (Vector512<double> lower2, Vector512<double> upper2) = Vector512.Widen(Vector512.Load((float*)input + inOffset + i + 16));
                Deposit512(lower, ref a0, ref a1, ref a2);
                Deposit512(upper, ref b0, ref b1, ref b2);
                Deposit512(lower2, ref c0, ref c1, ref c2);
                Deposit512(upper2, ref d0, ref d1, ref d2);
            }

            Store16(outputs, outOffset + i, Unbias512(a0, a1, a2, scale), Unbias512(b0, b1, b2, scale));
            Store16(outputs, outOffset + i + 16, Unbias512(c0, c1, c2, scale), Unbias512(d0, d1, d2, scale));
        }

        for (; i + 16 <= count; i += 16)
        {
            Vector512<double> a0 = s0, a1 = s1, a2 = s2, b0 = s0, b1 = s1, b2 = s2;
            foreach (nint input in inputs)
            {
                (Vector512<double> lower, Vector512<double> upper) = Vector512.Widen(Vector512.Load((float*)input + inOffset + i));
                Deposit512(lower, ref a0, ref a1, ref a2);
                Deposit512(upper, ref b0, ref b1, ref b2);
            }

            Store16(outputs, outOffset + i, Unbias512(a0, a1, a2, scale), Unbias512(b0, b1, b2, scale));
        }

        return i;
    }

    /// <summary>
    /// The Vector256 body of <see cref="Fused"/> (machines without Vector512): 8 elements per step, one load per input
    /// widened into two deposit chains, one narrowing store per output. Returns the number of elements done.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long Fused256(ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count, double scale)
    {
        Vector256<double> s0 = Vector256.Create(S0), s1 = Vector256.Create(S1), s2 = Vector256.Create(S2);
        long i = 0;
        for (; i + 8 <= count; i += 8)
        {
            Vector256<double> a0 = s0, a1 = s1, a2 = s2, b0 = s0, b1 = s1, b2 = s2;
            foreach (nint input in inputs)
            {
                (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(Vector256.Load((float*)input + inOffset + i));
                Deposit256(lower, ref a0, ref a1, ref a2);
                Deposit256(upper, ref b0, ref b1, ref b2);
            }

            Vector256<double> lowerSum = (((a0 - s0) + (a1 - s1)) + (a2 - s2)) * scale;
            Vector256<double> upperSum = (((b0 - s0) + (b1 - s1)) + (b2 - s2)) * scale;
            Vector256<float> r = Vector256.Narrow(lowerSum, upperSum);
            r = Vector256.ConditionalSelect(Vector256.Equals(r, r), r, Vector256.Create(float.NaN));
            foreach (nint output in outputs)
            {
                r.Store((float*)output + outOffset + i);
            }
        }

        return i;
    }

    /// <summary>Rounds 16 finalized doubles to float (NaN canonical) and stores them to every output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store16(ReadOnlySpan<nint> outputs, long offset, Vector512<double> lower, Vector512<double> upper)
    {
        Vector512<float> r = Vector512.Narrow(lower, upper);
        r = Vector512.ConditionalSelect(Vector512.Equals(r, r), r, Vector512.Create(float.NaN));
        foreach (nint output in outputs)
        {
            r.Store((float*)output + offset);
        }
    }

    /// <summary>The fused all-reduce of Half buffers (scalar; widening to double is exact).</summary>
    public static void FusedHalf(ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count, double scale)
    {
        for (long i = 0; i < count; i++)
        {
            double l0 = S0, l1 = S1, l2 = S2;
            foreach (nint input in inputs)
            {
                DepositScalar((double)((Half*)input)[inOffset + i], ref l0, ref l1, ref l2);
            }

            double v = FinalizeDouble(l0, l1, l2, scale);
            Half r = double.IsNaN(v) ? Half.NaN : (Half)v;
            foreach (nint output in outputs)
            {
                ((Half*)output)[outOffset + i] = r;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DepositScalar(double x, ref double a0, ref double a1, ref double a2)
    {
        // The OR-ed low bit rules out ties, so each level's rounding of the residual depends on x alone; the residual passed
        // on is x's own (exact by Sterbenz), not the sticky value's, so the three slices sum to x exactly.
        double t = a0 + Sticky(x);
        x += a0 - t;
        a0 = t;
        t = a1 + Sticky(x);
        x += a1 - t;
        a1 = t;
        a2 += Sticky(x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Sticky(double x) => BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(x) | 1);

    /// <summary>The one fixed sequence of the finalize: unbias each level (exact), add them in level order, scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double FinalizeDouble(double a0, double a1, double a2, double scale) => (((a0 - S0) + (a1 - S1)) + (a2 - S2)) * scale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float FinalizeScalar(double a0, double a1, double a2, double scale)
    {
        float r = (float)FinalizeDouble(a0, a1, a2, scale);
        return float.IsNaN(r) ? float.NaN : r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Deposit512(Vector512<double> x, ref Vector512<double> a0, ref Vector512<double> a1, ref Vector512<double> a2)
    {
        // The residual and last-level adds are issued as u·1 + v: the same single rounding as u + v, so the same bits, but
        // on the multiply-add pipes, which the deposit otherwise leaves idle while the add pipes are its limit.
        Vector512<ulong> one = Vector512<ulong>.One;
        Vector512<double> unit = Vector512<double>.One;
        Vector512<double> t = a0 + (x.AsUInt64() | one).AsDouble();
        x = Vector512.FusedMultiplyAdd(a0 - t, unit, x);
        a0 = t;
        t = a1 + (x.AsUInt64() | one).AsDouble();
        x = Vector512.FusedMultiplyAdd(a1 - t, unit, x);
        a1 = t;
        a2 = Vector512.FusedMultiplyAdd((x.AsUInt64() | one).AsDouble(), unit, a2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Deposit256(Vector256<double> x, ref Vector256<double> a0, ref Vector256<double> a1, ref Vector256<double> a2)
    {
        Vector256<ulong> one = Vector256<ulong>.One;
        Vector256<double> t = a0 + (x.AsUInt64() | one).AsDouble();
        x += a0 - t;
        a0 = t;
        t = a1 + (x.AsUInt64() | one).AsDouble();
        x += a1 - t;
        a1 = t;
        a2 += (x.AsUInt64() | one).AsDouble();
    }

    /// <summary>The finalize's fixed sequence in double, before the rounding to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Unbias512(Vector512<double> a0, Vector512<double> a1, Vector512<double> a2, double scale) =>
        (((a0 - Vector512.Create(S0)) + (a1 - Vector512.Create(S1))) + (a2 - Vector512.Create(S2))) * scale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Finalize512(Vector512<double> a0, Vector512<double> a1, Vector512<double> a2, double scale)
    {
        Vector512<double> v = Unbias512(a0, a1, a2, scale);
        Vector256<float> r = Vector512.Narrow(v, v).GetLower();
        return Vector256.ConditionalSelect(Vector256.Equals(r, r), r, Vector256.Create(float.NaN));
    }

    private static void Shift(double* level, long count, double delta)
    {
        var span = new Span<double>(level, checked((int)count));
        System.Numerics.Tensors.TensorPrimitives.Add(span, delta, span);
    }

    private static void MergeLevel(double* state, double* other, long count, double bias)
    {
        for (long i = 0; i < count; i++)
        {
            state[i] += other[i] - bias;
        }
    }
}
