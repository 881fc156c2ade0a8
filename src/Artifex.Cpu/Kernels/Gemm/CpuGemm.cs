using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Artifex.Cpu.Kernels;

/// <summary>
/// Managed single-precision GEMM in the BLIS shape: for each KC×NC block of B (packed once), for each MC×KC block of A
/// (packed once), a register-blocked micro-kernel sweeps the NR-column and MR-row panels. Threads split C into stripes
/// of whole tiles, never k, so every element is the same dot product, in the same order, for any thread count.
/// </summary>
internal static unsafe class CpuGemm
{
    [ThreadStatic]
    private static float[]? s_packedA;

    [ThreadStatic]
    private static float[]? s_packedB;

    /// <summary>Gets the widest micro-kernel this machine accelerates.</summary>
    public static GemmKernelKind BestKernel { get; } =
        Vector512.IsHardwareAccelerated ? GemmKernelKind.Vector512
        : Vector256.IsHardwareAccelerated ? GemmKernelKind.Vector256
        : GemmKernelKind.Scalar;

    /// <summary>Runs a validated GEMM.</summary>
    /// <param name="op">The operands.</param>
    /// <param name="kind">The micro-kernel; it must be accelerated here (or scalar).</param>
    /// <param name="threads">The most threads to use; 1 runs on the caller only.</param>
    public static void Run(in GemmOperands op, GemmKernelKind kind, int threads)
    {
        if (op.M == 0 || op.N == 0)
        {
            return;
        }

        if (op.K == 0 || op.Alpha == 0)
        {
            ScaleC(op);
            return;
        }

        GemmBlocking blocking = GemmBlocking.For(kind);
        int rowTiles = (op.M + blocking.MR - 1) / blocking.MR;
        int columnTiles = (op.N + blocking.NR - 1) / blocking.NR;

        // Below about a million multiply-adds a second thread costs more to wake than it saves.
        bool parallel = threads > 1 && (long)op.M * op.N * op.K >= 1L << 20 && Math.Max(rowTiles, columnTiles) > 1;
        if (!parallel)
        {
            RunStripe(op, blocking, 0, op.M, 0, op.N);
            return;
        }

        RunParallel(op, blocking, threads, rowTiles, columnTiles);
    }

    // Its own method: the lambda's closure would otherwise be allocated on every call, the sequential ones included.
    private static void RunParallel(GemmOperands op, GemmBlocking blocking, int threads, int rowTiles, int columnTiles)
    {
        bool byColumns = columnTiles >= rowTiles;
        int tiles = byColumns ? columnTiles : rowTiles;
        int parts = Math.Min(threads, tiles);
        int tileSize = byColumns ? blocking.NR : blocking.MR;
        int extent = byColumns ? op.N : op.M;
        Parallel.For(0, parts, part =>
        {
            int start = Math.Min(extent, (int)((long)tiles * part / parts) * tileSize);
            int end = Math.Min(extent, (int)((long)tiles * (part + 1) / parts) * tileSize);
            if (byColumns)
            {
                RunStripe(op, blocking, 0, op.M, start, end);
            }
            else
            {
                RunStripe(op, blocking, start, end, 0, op.N);
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunStripe(in GemmOperands op, GemmBlocking blocking, int row0, int row1, int column0, int column1)
    {
        float* packedA = Aligned(ref s_packedA, blocking.PackedASize);
        float* packedB = Aligned(ref s_packedB, blocking.PackedBSize);
        float* edge = stackalloc float[(GemmKernel512.Rows * GemmKernel512.Columns) + 16];
        edge = (float*)(((nuint)edge + 63) & ~(nuint)63);
        int mr = blocking.MR;
        int nr = blocking.NR;
        for (int jc = column0; jc < column1; jc += blocking.NC)
        {
            int nc = Math.Min(blocking.NC, column1 - jc);
            for (int pc = 0; pc < op.K; pc += blocking.KC)
            {
                int kc = Math.Min(blocking.KC, op.K - pc);
                GemmStore store = pc > 0 ? GemmStore.Accumulate : op.Beta == 0 ? GemmStore.Overwrite : GemmStore.Blend;
                GemmPacking.PackB(op, pc, kc, jc, nc, nr, packedB);
                for (int ic = row0; ic < row1; ic += blocking.MC)
                {
                    int mc = Math.Min(blocking.MC, row1 - ic);
                    GemmPacking.PackA(op, ic, mc, pc, kc, mr, packedA);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int width = Math.Min(nr, nc - jr);
                        float* b = packedB + ((long)jr * kc);
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int height = Math.Min(mr, mc - ir);
                            float* a = packedA + ((long)ir * kc);
                            float* c = op.C + ((long)(ic + ir) * op.Ldc) + jc + jr;
                            if (height == mr && width == nr)
                            {
                                Kernel(blocking.Kind, a, b, kc, c, op.Ldc, op.Alpha, op.Beta, store);
                            }
                            else
                            {
                                // Edge tile: the full kernel into a scratch tile, then the same store arithmetic element by element.
                                Kernel(blocking.Kind, a, b, kc, edge, nr, 1f, 0f, GemmStore.Overwrite);
                                for (int r = 0; r < height; r++)
                                {
                                    float* row = c + ((long)r * op.Ldc);
                                    for (int j = 0; j < width; j++)
                                    {
                                        row[j] = GemmKernelScalar.Merge(edge[(r * nr) + j], row[j], op.Alpha, op.Beta, store);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel(GemmKernelKind kind, float* a, float* b, int kc, float* c, int ldc, float alpha, float beta, GemmStore store)
    {
        switch (kind)
        {
            case GemmKernelKind.Vector512:
                GemmKernel512.Run8x32(a, b, kc, c, ldc, alpha, beta, store);
                break;
            case GemmKernelKind.Vector256:
                GemmKernel256.Run6x16(a, b, kc, c, ldc, alpha, beta, store);
                break;
            default:
                GemmKernelScalar.Run4x8(a, b, kc, c, ldc, alpha, beta, store);
                break;
        }
    }

    /// <summary>C = beta·C for an empty product (k = 0 or alpha = 0); beta = 0 writes zeros without reading C.</summary>
    private static void ScaleC(in GemmOperands op)
    {
        for (int i = 0; i < op.M; i++)
        {
            var row = new Span<float>(op.C + ((long)i * op.Ldc), op.N);
            if (op.Beta == 0)
            {
                row.Clear();
            }
            else
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, op.Beta, row);
            }
        }
    }

    private static float* Aligned(ref float[]? scratch, int floats)
    {
        if (scratch is null || scratch.Length < floats + 16)
        {
            scratch = GC.AllocateUninitializedArray<float>(floats + 16, pinned: true);
        }

        // The array lives on the pinned object heap, so its address is stable.
        float* start = (float*)Unsafe.AsPointer(ref scratch[0]);
        return (float*)(((nuint)start + 63) & ~(nuint)63);
    }
}
