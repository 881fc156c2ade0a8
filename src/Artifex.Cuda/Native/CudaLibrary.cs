namespace Artifex.Cuda.Native;

/// <summary>The native libraries the CUDA provider binds to, each behind one logical import name of <see cref="CudaLibraries"/>.</summary>
internal enum CudaLibrary
{
    /// <summary>The CUDA driver API, <c>libcuda.so.1</c>.</summary>
    Driver,

    /// <summary>cuBLAS, <c>libcublas.so.13</c> or <c>.12</c>.</summary>
    Cublas,

    /// <summary>NCCL, <c>libnccl.so.2</c>.</summary>
    Nccl,

    /// <summary>NVRTC, <c>libnvrtc.so.13</c> or <c>.12</c>.</summary>
    Nvrtc,
}
