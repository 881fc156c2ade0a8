using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Artifex.Cpu.Kernels;

/// <summary>
/// The Vector512 micro-kernel: 8 × 32 accumulators held in registers across the whole k loop, one broadcast of A and
/// 2 loads of B per row step, fused multiply-add. The store applies alpha and beta without fusing, so it rounds exactly
/// as <see cref="GemmKernelScalar.Merge"/> does for edge tiles.
/// </summary>
internal static unsafe class GemmKernel512
{
    /// <summary>The rows of a tile (MR).</summary>
    public const int Rows = 8;

    /// <summary>The columns of a tile (NR).</summary>
    public const int Columns = 32;

    /// <summary>C[8×32] (op) alpha·A·B for one packed A micro-panel (8 floats per k) and B micro-panel (32 floats per k).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "MA0051:Method is too long", Justification = "The unrolled register tile is the point of a micro-kernel.")]
    public static void Run8x32(float* a, float* b, int kc, float* c, int ldc, float alpha, float beta, GemmStore store)
    {
        Vector512<float> c00 = Vector512<float>.Zero;
        Vector512<float> c01 = Vector512<float>.Zero;
        Vector512<float> c10 = Vector512<float>.Zero;
        Vector512<float> c11 = Vector512<float>.Zero;
        Vector512<float> c20 = Vector512<float>.Zero;
        Vector512<float> c21 = Vector512<float>.Zero;
        Vector512<float> c30 = Vector512<float>.Zero;
        Vector512<float> c31 = Vector512<float>.Zero;
        Vector512<float> c40 = Vector512<float>.Zero;
        Vector512<float> c41 = Vector512<float>.Zero;
        Vector512<float> c50 = Vector512<float>.Zero;
        Vector512<float> c51 = Vector512<float>.Zero;
        Vector512<float> c60 = Vector512<float>.Zero;
        Vector512<float> c61 = Vector512<float>.Zero;
        Vector512<float> c70 = Vector512<float>.Zero;
        Vector512<float> c71 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b + 0);
            Vector512<float> b1 = Vector512.Load(b + 16);
            Vector512<float> a0 = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            Vector512<float> a1 = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            Vector512<float> a2 = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            Vector512<float> a3 = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            Vector512<float> a4 = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(a4, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
            Vector512<float> a5 = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(a5, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
            Vector512<float> a6 = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(a6, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
            Vector512<float> a7 = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(a7, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
            a += 8;
            b += 32;
        }

        Vector512<float> va = Vector512.Create(alpha);
        Vector512<float> vb = Vector512.Create(beta);
        Store(c, c00, va, vb, store);
        Store(c + 16, c01, va, vb, store);
        c += ldc;
        Store(c, c10, va, vb, store);
        Store(c + 16, c11, va, vb, store);
        c += ldc;
        Store(c, c20, va, vb, store);
        Store(c + 16, c21, va, vb, store);
        c += ldc;
        Store(c, c30, va, vb, store);
        Store(c + 16, c31, va, vb, store);
        c += ldc;
        Store(c, c40, va, vb, store);
        Store(c + 16, c41, va, vb, store);
        c += ldc;
        Store(c, c50, va, vb, store);
        Store(c + 16, c51, va, vb, store);
        c += ldc;
        Store(c, c60, va, vb, store);
        Store(c + 16, c61, va, vb, store);
        c += ldc;
        Store(c, c70, va, vb, store);
        Store(c + 16, c71, va, vb, store);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> accumulator, Vector512<float> alpha, Vector512<float> beta, GemmStore store)
    {
        Vector512<float> result = accumulator * alpha;
        if (store == GemmStore.Blend)
        {
            result += Vector512.Load(c) * beta;
        }
        else if (store == GemmStore.Accumulate)
        {
            result = Vector512.Load(c) + result;
        }

        result.Store(c);
    }
}
