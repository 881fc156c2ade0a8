namespace Artifex.Cpu.Kernels;

/// <summary>The register-blocked micro-kernel a GEMM runs, which fixes the packed panel shape (MR × NR).</summary>
internal enum GemmKernelKind
{
    /// <summary>Portable scalar code, 4 × 8 tiles, no fused multiply-add.</summary>
    Scalar,

    /// <summary>Vector256 FMA, 6 × 16 tiles (12 accumulators fit the 16 AVX2 registers).</summary>
    Vector256,

    /// <summary>Vector512 FMA, 8 × 32 tiles (16 accumulators, using the 32 AVX-512 registers).</summary>
    Vector512,
}
