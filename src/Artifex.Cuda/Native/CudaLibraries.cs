namespace Artifex.Cuda.Native;

/// <summary>The logical library names the bindings import from; the resolver maps each to a real file.</summary>
internal static partial class CudaLibraries
{
    public const string DriverName = "artifex_cuda";
    public const string CublasName = "artifex_cublas";
    public const string NcclName = "artifex_nccl";
    public const string NvrtcName = "artifex_nvrtc";
}
