namespace Artifex.Cuda.Native;

/// <summary>What a <see cref="CudaResourceHandle"/> releases.</summary>
internal enum CudaResourceKind
{
    Stream,
    Event,
    Blas,
    Module,
    Memory,
    NcclCommunicator,
}
