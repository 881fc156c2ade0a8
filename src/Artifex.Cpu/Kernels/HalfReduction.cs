using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Artifex.Cpu.Kernels;

/// <summary>
/// The Half sum and mean of the collectives, vectorized: .NET has no Half vectors, so blocks are widened to Single with
/// <see cref="TensorPrimitives"/>, added there, and rounded back to Half after every add — exactly what Half's own
/// operators do (<c>(Half)((float)x + (float)y)</c>), so the bits are those of the scalar rank-order kernel. It is the
/// wire format of compressed gradients, so it must run at memory speed, not at the scalar Half operators' pace.
/// </summary>
internal static unsafe class HalfReduction
{
    private const int Block = 512;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Reduce(bool mean, ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count)
    {
        Span<float> sum = stackalloc float[Block];
        Span<float> term = stackalloc float[Block];
        Span<Half> rounded = stackalloc Half[Block];
        int n = inputs.Length;
        for (long start = 0; start < count; start += Block)
        {
            int length = (int)Math.Min(Block, count - start);
            Span<float> acc = sum[..length];
            Span<float> next = term[..length];
            Span<Half> half = rounded[..length];
            TensorPrimitives.ConvertToSingle(Input(inputs[0], inOffset + start, length), acc);
            for (int k = 1; k < n; k++)
            {
                TensorPrimitives.ConvertToSingle(Input(inputs[k], inOffset + start, length), next);
                TensorPrimitives.Add(acc, next, acc);
                TensorPrimitives.ConvertToHalf(acc, half);
                if (k < n - 1 || mean)
                {
                    TensorPrimitives.ConvertToSingle(half, acc);
                }
            }

            if (mean)
            {
                TensorPrimitives.Divide(acc, (float)(Half)n, acc);
                TensorPrimitives.ConvertToHalf(acc, half);
            }
            else if (n == 1)
            {
                TensorPrimitives.ConvertToHalf(acc, half);
            }

            foreach (nint output in outputs)
            {
                half.CopyTo(new Span<Half>((Half*)output + outOffset + start, length));
            }
        }
    }

    private static ReadOnlySpan<Half> Input(nint input, long offset, int length) => new((Half*)input + offset, length);
}
