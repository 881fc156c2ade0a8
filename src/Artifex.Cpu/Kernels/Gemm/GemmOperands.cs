using System.Runtime.InteropServices;

namespace Artifex.Cpu.Kernels;

/// <summary>A validated GEMM, with each operand reduced to a pointer and the strides of its logical rows and columns.</summary>
[StructLayout(LayoutKind.Auto)]
internal readonly unsafe struct GemmOperands
{
    public GemmOperands(
        MatrixOperation transA,
        MatrixOperation transB,
        int m,
        int n,
        int k,
        float alpha,
        float* a,
        int lda,
        float* b,
        int ldb,
        float beta,
        float* c,
        int ldc)
    {
        M = m;
        N = n;
        K = k;
        Alpha = alpha;
        Beta = beta;
        A = a;
        B = b;
        C = c;
        Ldc = ldc;
        (ARowStride, AColumnStride) = transA == MatrixOperation.None ? (lda, 1) : (1, lda);
        (BRowStride, BColumnStride) = transB == MatrixOperation.None ? (ldb, 1) : (1, ldb);
    }

    public int M { get; }

    public int N { get; }

    public int K { get; }

    public float Alpha { get; }

    public float Beta { get; }

    /// <summary>Gets A; logical element (i, p) is at <c>A[i·ARowStride + p·AColumnStride]</c>.</summary>
    public float* A { get; }

    public int ARowStride { get; }

    public int AColumnStride { get; }

    /// <summary>Gets B; logical element (p, j) is at <c>B[p·BRowStride + j·BColumnStride]</c>.</summary>
    public float* B { get; }

    public int BRowStride { get; }

    public int BColumnStride { get; }

    public float* C { get; }

    public int Ldc { get; }
}
