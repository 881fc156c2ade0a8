using System.Runtime.InteropServices;

namespace Artifex.Cpu.Kernels;

/// <summary>
/// The tile and cache-block sizes of one micro-kernel: MR × NR registers; an MC × KC block of A kept in L2; a KC × NC
/// block of B in L3. KC is the same for every kernel, so the k blocking (and with it the order of each element's sum)
/// never depends on threads or tile position.
/// </summary>
[StructLayout(LayoutKind.Auto)]
internal readonly record struct GemmBlocking(GemmKernelKind Kind, int MR, int NR, int MC, int KC, int NC)
{
    public const int DepthBlock = 256;

    public static GemmBlocking For(GemmKernelKind kind) => kind switch
    {
        GemmKernelKind.Vector512 => new(kind, GemmKernel512.Rows, GemmKernel512.Columns, 128, DepthBlock, 2048),
        GemmKernelKind.Vector256 => new(kind, GemmKernel256.Rows, GemmKernel256.Columns, 120, DepthBlock, 2048),
        _ => new(kind, GemmKernelScalar.Rows, GemmKernelScalar.Columns, 128, DepthBlock, 2048),
    };

    /// <summary>Gets the floats a packed A block needs.</summary>
    public int PackedASize => MC * KC;

    /// <summary>Gets the floats a packed B block needs.</summary>
    public int PackedBSize => KC * NC;
}
