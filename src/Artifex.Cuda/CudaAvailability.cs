using System.Runtime.InteropServices;

namespace Artifex.Cuda;

/// <summary>Probes whether the CUDA driver can be loaded on this machine, without ever throwing.</summary>
/// <remarks>
/// The CUDA provider itself (cuBLAS, NCCL, device memory) is not implemented yet; this probe is the part of it
/// that every machine can run, so callers can decide to fall back to the CPU provider.
/// </remarks>
public static class CudaAvailability
{
    /// <summary>The file name of the CUDA driver library on Linux.</summary>
    public const string DriverLibrary = "libcuda.so.1";

    private static readonly Lazy<string?> s_unavailableReason = new(Probe);

    /// <summary>Gets a value indicating whether the CUDA driver library loads.</summary>
    public static bool IsDriverLoadable => s_unavailableReason.Value is null;

    /// <summary>Gets why CUDA is not usable, or <see langword="null"/> when the driver loads.</summary>
    public static string? UnavailableReason => s_unavailableReason.Value;

    private static string? Probe()
    {
        if (!NativeLibrary.TryLoad(DriverLibrary, out IntPtr handle))
        {
            return $"the CUDA driver library {DriverLibrary} was not found (no NVIDIA driver on this machine).";
        }

        NativeLibrary.Free(handle);
        return null;
    }
}
