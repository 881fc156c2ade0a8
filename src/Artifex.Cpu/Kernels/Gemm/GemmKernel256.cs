using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Artifex.Cpu.Kernels;

/// <summary>
/// The Vector256 micro-kernel: 6 × 16 accumulators held in registers across the whole k loop, one broadcast of A and
/// 2 loads of B per row step, fused multiply-add. The store applies alpha and beta without fusing, so it rounds exactly
/// as <see cref="GemmKernelScalar.Merge"/> does for edge tiles.
/// </summary>
internal static unsafe class GemmKernel256
{
    /// <summary>The rows of a tile (MR).</summary>
    public const int Rows = 6;

    /// <summary>The columns of a tile (NR).</summary>
    public const int Columns = 16;

    /// <summary>C[6×16] (op) alpha·A·B for one packed A micro-panel (6 floats per k) and B micro-panel (16 floats per k).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "MA0051:Method is too long", Justification = "The unrolled register tile is the point of a micro-kernel.")]
    public static void Run6x16(float* a, float* b, int kc, float* c, int ldc, float alpha, float beta, GemmStore store)
    {
        Vector256<float> c00 = Vector256<float>.Zero;
        Vector256<float> c01 = Vector256<float>.Zero;
        Vector256<float> c10 = Vector256<float>.Zero;
        Vector256<float> c11 = Vector256<float>.Zero;
        Vector256<float> c20 = Vector256<float>.Zero;
        Vector256<float> c21 = Vector256<float>.Zero;
        Vector256<float> c30 = Vector256<float>.Zero;
        Vector256<float> c31 = Vector256<float>.Zero;
        Vector256<float> c40 = Vector256<float>.Zero;
        Vector256<float> c41 = Vector256<float>.Zero;
        Vector256<float> c50 = Vector256<float>.Zero;
        Vector256<float> c51 = Vector256<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b + 0);
            Vector256<float> b1 = Vector256.Load(b + 8);
            Vector256<float> a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            Vector256<float> a1 = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            Vector256<float> a2 = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            Vector256<float> a3 = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            Vector256<float> a4 = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(a4, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(a4, b1, c41);
            Vector256<float> a5 = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(a5, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(a5, b1, c51);
            a += 6;
            b += 16;
        }

        Vector256<float> va = Vector256.Create(alpha);
        Vector256<float> vb = Vector256.Create(beta);
        Store(c, c00, va, vb, store);
        Store(c + 8, c01, va, vb, store);
        c += ldc;
        Store(c, c10, va, vb, store);
        Store(c + 8, c11, va, vb, store);
        c += ldc;
        Store(c, c20, va, vb, store);
        Store(c + 8, c21, va, vb, store);
        c += ldc;
        Store(c, c30, va, vb, store);
        Store(c + 8, c31, va, vb, store);
        c += ldc;
        Store(c, c40, va, vb, store);
        Store(c + 8, c41, va, vb, store);
        c += ldc;
        Store(c, c50, va, vb, store);
        Store(c + 8, c51, va, vb, store);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector256<float> accumulator, Vector256<float> alpha, Vector256<float> beta, GemmStore store)
    {
        Vector256<float> result = accumulator * alpha;
        if (store == GemmStore.Blend)
        {
            result += Vector256.Load(c) * beta;
        }
        else if (store == GemmStore.Accumulate)
        {
            result = Vector256.Load(c) + result;
        }

        result.Store(c);
    }
}
