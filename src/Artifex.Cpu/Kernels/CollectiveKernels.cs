using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Artifex.Cpu.Kernels;

/// <summary>
/// The fused passes behind every CPU collective. Each element is combined from the inputs in rank order
/// (<c>((x0 ∘ x1) ∘ x2) ∘ …</c>), in every SIMD width and in the scalar tail, so a result depends only on the
/// inputs and their order, never on the width, the chunking or the thread that runs a chunk.
/// </summary>
internal static unsafe class CollectiveKernels
{
    /// <summary>
    /// <c>outputs[k][outOffset + i] = inputs[0][inOffset + i] ∘ … ∘ inputs[n-1][inOffset + i]</c> (divided by
    /// <paramref name="divisor"/> when it is not zero) for <c>i</c> in <c>[0, count)</c>: one read of every input and
    /// one write of every output per element. Inputs and outputs may be the same buffers (in place).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Reduce<T, TOp>(ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count, T divisor)
        where T : unmanaged, INumber<T>
        where TOp : struct, IReduceOperator<T>
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            i = (inputs.Length, outputs.Length) switch
            {
                (2, 2) => Reduce512Pair<T, TOp>((T*)inputs[0] + inOffset, (T*)inputs[1] + inOffset, (T*)outputs[0] + outOffset, (T*)outputs[1] + outOffset, count, divisor),
                (4, 4) => Reduce512Quad<T, TOp>(inputs, inOffset, outputs, outOffset, count, divisor),
                (8, 8) => Reduce512Octet<T, TOp>(inputs, inOffset, outputs, outOffset, count, divisor),
                _ => Reduce512<T, TOp>(inputs, inOffset, outputs, outOffset, count, divisor),
            };
        }
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            i = Reduce256<T, TOp>(inputs, inOffset, outputs, outOffset, count, divisor);
        }
        else if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
        {
            i = Reduce128<T, TOp>(inputs, inOffset, outputs, outOffset, count, divisor);
        }

        ReduceScalar<T, TOp>(inputs, inOffset, outputs, outOffset, i, count, divisor);
    }

    /// <summary>
    /// Two participants with every pointer in a register: no loop per input or output, so far more iterations fit in
    /// the out-of-order window and more cache misses are in flight at DRAM sizes.
    /// </summary>
    private static long Reduce512Pair<T, TOp>(T* a, T* b, T* x, T* y, long count, T divisor)
        where T : unmanaged, INumber<T>
        where TOp : struct, IReduceOperator<T>
    {
        bool mean = divisor != T.Zero;
        Vector512<T> d = Vector512.Create(divisor);
        long i = 0;
        for (; i <= count - Vector512<T>.Count; i += Vector512<T>.Count)
        {
            Vector512<T> acc = TOp.Invoke(Vector512.Load(a + i), Vector512.Load(b + i));
            if (mean)
            {
                acc /= d;
            }

            Vector512.Store(acc, x + i);
            Vector512.Store(acc, y + i);
        }

        return i;
    }

    /// <summary>Four participants with every pointer in a local, like <see cref="Reduce512Pair{T, TOp}"/>.</summary>
    private static long Reduce512Quad<T, TOp>(ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count, T divisor)
        where T : unmanaged, INumber<T>
        where TOp : struct, IReduceOperator<T>
    {
        T* a = (T*)inputs[0] + inOffset, b = (T*)inputs[1] + inOffset, c = (T*)inputs[2] + inOffset, e = (T*)inputs[3] + inOffset;
        T* w = (T*)outputs[0] + outOffset, x = (T*)outputs[1] + outOffset, y = (T*)outputs[2] + outOffset, z = (T*)outputs[3] + outOffset;
        bool mean = divisor != T.Zero;
        Vector512<T> d = Vector512.Create(divisor);
        long i = 0;
        for (; i <= count - Vector512<T>.Count; i += Vector512<T>.Count)
        {
            Vector512<T> acc = TOp.Invoke(TOp.Invoke(TOp.Invoke(Vector512.Load(a + i), Vector512.Load(b + i)), Vector512.Load(c + i)), Vector512.Load(e + i));
            if (mean)
            {
                acc /= d;
            }

            Vector512.Store(acc, w + i);
            Vector512.Store(acc, x + i);
            Vector512.Store(acc, y + i);
            Vector512.Store(acc, z + i);
        }

        return i;
    }

    /// <summary>Eight participants with every pointer in a local, like <see cref="Reduce512Pair{T, TOp}"/>.</summary>
    private static long Reduce512Octet<T, TOp>(ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count, T divisor)
        where T : unmanaged, INumber<T>
        where TOp : struct, IReduceOperator<T>
    {
        T* i0 = (T*)inputs[0] + inOffset, i1 = (T*)inputs[1] + inOffset, i2 = (T*)inputs[2] + inOffset, i3 = (T*)inputs[3] + inOffset;
        T* i4 = (T*)inputs[4] + inOffset, i5 = (T*)inputs[5] + inOffset, i6 = (T*)inputs[6] + inOffset, i7 = (T*)inputs[7] + inOffset;
        T* o0 = (T*)outputs[0] + outOffset, o1 = (T*)outputs[1] + outOffset, o2 = (T*)outputs[2] + outOffset, o3 = (T*)outputs[3] + outOffset;
        T* o4 = (T*)outputs[4] + outOffset, o5 = (T*)outputs[5] + outOffset, o6 = (T*)outputs[6] + outOffset, o7 = (T*)outputs[7] + outOffset;
        bool mean = divisor != T.Zero;
        Vector512<T> d = Vector512.Create(divisor);
        long i = 0;
        for (; i <= count - Vector512<T>.Count; i += Vector512<T>.Count)
        {
            Vector512<T> acc = TOp.Invoke(Vector512.Load(i0 + i), Vector512.Load(i1 + i));
            acc = TOp.Invoke(acc, Vector512.Load(i2 + i));
            acc = TOp.Invoke(acc, Vector512.Load(i3 + i));
            acc = TOp.Invoke(acc, Vector512.Load(i4 + i));
            acc = TOp.Invoke(acc, Vector512.Load(i5 + i));
            acc = TOp.Invoke(acc, Vector512.Load(i6 + i));
            acc = TOp.Invoke(acc, Vector512.Load(i7 + i));
            if (mean)
            {
                acc /= d;
            }

            Vector512.Store(acc, o0 + i);
            Vector512.Store(acc, o1 + i);
            Vector512.Store(acc, o2 + i);
            Vector512.Store(acc, o3 + i);
            Vector512.Store(acc, o4 + i);
            Vector512.Store(acc, o5 + i);
            Vector512.Store(acc, o6 + i);
            Vector512.Store(acc, o7 + i);
        }

        return i;
    }

    /// <summary>The Vector512 body of <see cref="Reduce{T, TOp}"/>; returns the first element it did not do.</summary>
    private static long Reduce512<T, TOp>(ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count, T divisor)
        where T : unmanaged, INumber<T>
        where TOp : struct, IReduceOperator<T>
    {
        bool mean = divisor != T.Zero;
        Vector512<T> d = Vector512.Create(divisor);
        long i = 0;
        for (; i <= count - Vector512<T>.Count; i += Vector512<T>.Count)
        {
            Vector512<T> acc = Vector512.Load((T*)inputs[0] + inOffset + i);
            for (int k = 1; k < inputs.Length; k++)
            {
                acc = TOp.Invoke(acc, Vector512.Load((T*)inputs[k] + inOffset + i));
            }

            if (mean)
            {
                acc /= d;
            }

            for (int k = 0; k < outputs.Length; k++)
            {
                Vector512.Store(acc, (T*)outputs[k] + outOffset + i);
            }
        }

        return i;
    }

    /// <summary>The Vector256 body of <see cref="Reduce{T, TOp}"/>; returns the first element it did not do.</summary>
    private static long Reduce256<T, TOp>(ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count, T divisor)
        where T : unmanaged, INumber<T>
        where TOp : struct, IReduceOperator<T>
    {
        bool mean = divisor != T.Zero;
        Vector256<T> d = Vector256.Create(divisor);
        long i = 0;
        for (; i <= count - Vector256<T>.Count; i += Vector256<T>.Count)
        {
            Vector256<T> acc = Vector256.Load((T*)inputs[0] + inOffset + i);
            for (int k = 1; k < inputs.Length; k++)
            {
                acc = TOp.Invoke(acc, Vector256.Load((T*)inputs[k] + inOffset + i));
            }

            if (mean)
            {
                acc /= d;
            }

            for (int k = 0; k < outputs.Length; k++)
            {
                Vector256.Store(acc, (T*)outputs[k] + outOffset + i);
            }
        }

        return i;
    }

    /// <summary>The Vector128 body of <see cref="Reduce{T, TOp}"/>; returns the first element it did not do.</summary>
    private static long Reduce128<T, TOp>(ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count, T divisor)
        where T : unmanaged, INumber<T>
        where TOp : struct, IReduceOperator<T>
    {
        bool mean = divisor != T.Zero;
        Vector128<T> d = Vector128.Create(divisor);
        long i = 0;
        for (; i <= count - Vector128<T>.Count; i += Vector128<T>.Count)
        {
            Vector128<T> acc = Vector128.Load((T*)inputs[0] + inOffset + i);
            for (int k = 1; k < inputs.Length; k++)
            {
                acc = TOp.Invoke(acc, Vector128.Load((T*)inputs[k] + inOffset + i));
            }

            if (mean)
            {
                acc /= d;
            }

            for (int k = 0; k < outputs.Length; k++)
            {
                Vector128.Store(acc, (T*)outputs[k] + outOffset + i);
            }
        }

        return i;
    }

    /// <summary>The scalar form of <see cref="Reduce{T, TOp}"/> over <c>[start, count)</c>; also the reference the tests compare with.</summary>
    public static void ReduceScalar<T, TOp>(ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long start, long count, T divisor)
        where T : unmanaged, INumber<T>
        where TOp : struct, IReduceOperator<T>
    {
        bool mean = divisor != T.Zero;
        for (long i = start; i < count; i++)
        {
            T acc = ((T*)inputs[0])[inOffset + i];
            for (int k = 1; k < inputs.Length; k++)
            {
                acc = TOp.Invoke(acc, ((T*)inputs[k])[inOffset + i]);
            }

            if (mean)
            {
                acc /= divisor;
            }

            for (int k = 0; k < outputs.Length; k++)
            {
                ((T*)outputs[k])[outOffset + i] = acc;
            }
        }
    }

    /// <summary>Copies <paramref name="count"/> bytes from one source to every output: one read, one write per output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CopyToAll(nint source, long sourceByteOffset, ReadOnlySpan<nint> outputs, long outByteOffset, long count)
    {
        byte* from = (byte*)source + sourceByteOffset;
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= count - Vector512<byte>.Count; i += Vector512<byte>.Count)
            {
                Vector512<byte> v = Vector512.Load(from + i);
                foreach (nint output in outputs)
                {
                    Vector512.Store(v, (byte*)output + outByteOffset + i);
                }
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= count - Vector256<byte>.Count; i += Vector256<byte>.Count)
            {
                Vector256<byte> v = Vector256.Load(from + i);
                foreach (nint output in outputs)
                {
                    Vector256.Store(v, (byte*)output + outByteOffset + i);
                }
            }
        }

        for (; i < count; i++)
        {
            byte b = from[i];
            foreach (nint output in outputs)
            {
                ((byte*)output)[outByteOffset + i] = b;
            }
        }
    }
}
