namespace Artifex.Cpu.Kernels;

/// <summary>How a micro-kernel writes its tile into C.</summary>
internal enum GemmStore
{
    /// <summary><c>C = alpha·acc</c>: the first k block with beta = 0, so C is never read.</summary>
    Overwrite,

    /// <summary><c>C = alpha·acc + beta·C</c>: the first k block.</summary>
    Blend,

    /// <summary><c>C = C + alpha·acc</c>: every later k block.</summary>
    Accumulate,
}
