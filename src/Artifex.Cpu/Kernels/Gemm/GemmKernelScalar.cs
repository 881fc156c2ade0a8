using System.Runtime.CompilerServices;

namespace Artifex.Cpu.Kernels;

/// <summary>The portable micro-kernel (4 × 8 tiles, multiply then add) and the scalar store shared by every edge tile.</summary>
internal static unsafe class GemmKernelScalar
{
    /// <summary>The rows of a tile (MR).</summary>
    public const int Rows = 4;

    /// <summary>The columns of a tile (NR).</summary>
    public const int Columns = 8;

    /// <summary>C[4×8] (op) alpha·A·B over one packed pair of micro-panels.</summary>
    public static void Run4x8(float* a, float* b, int kc, float* c, int ldc, float alpha, float beta, GemmStore store)
    {
        float* accumulators = stackalloc float[Rows * Columns];
        new Span<float>(accumulators, Rows * Columns).Clear();
        for (int p = 0; p < kc; p++)
        {
            for (int r = 0; r < Rows; r++)
            {
                float ar = a[r];
                float* row = accumulators + (r * Columns);
                for (int j = 0; j < Columns; j++)
                {
                    row[j] += ar * b[j];
                }
            }

            a += Rows;
            b += Columns;
        }

        for (int r = 0; r < Rows; r++)
        {
            for (int j = 0; j < Columns; j++)
            {
                c[(r * ldc) + j] = Merge(accumulators[(r * Columns) + j], c[(r * ldc) + j], alpha, beta, store);
            }
        }
    }

    /// <summary>One element of a tile store: the same operations, in the same order, as the vector stores.</summary>
    /// <param name="accumulator">The dot product over the k block.</param>
    /// <param name="c">C's current value (ignored for <see cref="GemmStore.Overwrite"/>).</param>
    /// <param name="alpha">The product's multiplier.</param>
    /// <param name="beta">C's multiplier.</param>
    /// <param name="store">The store mode.</param>
    /// <returns>C's new value.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Merge(float accumulator, float c, float alpha, float beta, GemmStore store)
    {
        float result = accumulator * alpha;
        return store switch
        {
            GemmStore.Blend => result + (c * beta),
            GemmStore.Accumulate => c + result,
            _ => result,
        };
    }
}
