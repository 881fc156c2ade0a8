using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Artifex.Cpu.Kernels;

/// <summary>
/// Copies blocks of A and B into the panel order the micro-kernels stream: A as MR-row micro-panels (MR values per k),
/// B as NR-column micro-panels (NR values per k), zero-padded at the edges so every tile runs the full kernel.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>Packs rows [row0, row0+rows) × k [k0, k0+depth) of op(A) into <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(in GemmOperands op, int row0, int rows, int k0, int depth, int mr, float* destination)
    {
        for (int panel = 0; panel < rows; panel += mr)
        {
            int height = Math.Min(mr, rows - panel);
            float* dst = destination + (panel * depth);
            float* src = op.A + ((long)(row0 + panel) * op.ARowStride) + ((long)k0 * op.AColumnStride);
            if (op.AColumnStride == 1 && height == 8 && mr == 8)
            {
                PackRows8(src, op.ARowStride, depth, dst);
            }
            else if (op.AColumnStride == 1)
            {
                // Stored rows are contiguous in k: read along them, write with stride MR.
                for (int r = 0; r < height; r++)
                {
                    float* s = src + ((long)r * op.ARowStride);
                    float* d = dst + r;
                    for (int p = 0; p < depth; p++)
                    {
                        d[p * mr] = s[p];
                    }
                }
            }
            else
            {
                // Transposed A: the MR values of one k are contiguous.
                for (int p = 0; p < depth; p++)
                {
                    CopyShort(src + ((long)p * op.AColumnStride), dst + (p * mr), height);
                }
            }

            if (height < mr)
            {
                for (int p = 0; p < depth; p++)
                {
                    new Span<float>(dst + (p * mr) + height, mr - height).Clear();
                }
            }
        }
    }

    /// <summary>Packs k [k0, k0+depth) × columns [column0, column0+columns) of op(B) into <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(in GemmOperands op, int k0, int depth, int column0, int columns, int nr, float* destination)
    {
        for (int panel = 0; panel < columns; panel += nr)
        {
            int width = Math.Min(nr, columns - panel);
            float* dst = destination + (panel * depth);
            float* src = op.B + ((long)k0 * op.BRowStride) + ((long)(column0 + panel) * op.BColumnStride);
            if (op.BColumnStride == 1)
            {
                for (int p = 0; p < depth; p++)
                {
                    CopyShort(src + ((long)p * op.BRowStride), dst + (p * nr), width);
                }
            }
            else
            {
                for (int j = 0; j < width; j++)
                {
                    float* s = src + ((long)j * op.BColumnStride);
                    float* d = dst + j;
                    for (int p = 0; p < depth; p++)
                    {
                        d[p * nr] = s[p];
                    }
                }
            }

            if (width < nr)
            {
                for (int p = 0; p < depth; p++)
                {
                    new Span<float>(dst + (p * nr) + width, nr - width).Clear();
                }
            }
        }
    }

    /// <summary>Interleaves 8 row-major rows k-major: eight sequential read streams, one sequential write stream.</summary>
    private static void PackRows8(float* src, long rowStride, int depth, float* dst)
    {
        float* r0 = src;
        float* r1 = src + rowStride;
        float* r2 = src + (2 * rowStride);
        float* r3 = src + (3 * rowStride);
        float* r4 = src + (4 * rowStride);
        float* r5 = src + (5 * rowStride);
        float* r6 = src + (6 * rowStride);
        float* r7 = src + (7 * rowStride);
        for (int p = 0; p < depth; p++)
        {
            dst[0] = r0[p];
            dst[1] = r1[p];
            dst[2] = r2[p];
            dst[3] = r3[p];
            dst[4] = r4[p];
            dst[5] = r5[p];
            dst[6] = r6[p];
            dst[7] = r7[p];
            dst += 8;
        }
    }

    /// <summary>Copies one panel row (at most 32 floats) with vector moves; a memmove call per row costs more than the copy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyShort(float* src, float* dst, int count)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= count; i += 8)
            {
                Vector256.Store(Vector256.Load(src + i), dst + i);
            }
        }

        for (; i < count; i++)
        {
            dst[i] = src[i];
        }
    }
}
