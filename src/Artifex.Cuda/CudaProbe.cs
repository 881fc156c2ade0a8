using System.Globalization;
using System.Runtime.InteropServices;
using Artifex.Cuda.Native;

namespace Artifex.Cuda;

/// <summary>
/// Finds out, without ever throwing, whether CUDA is usable here: the driver loads, initializes and sees a GPU; and
/// whether cuBLAS, NCCL and NVRTC load, with their versions. CI machines and laptops get a reason instead of an exception.
/// </summary>
/// <remarks>
/// The order is: <c>ARTIFEX_DISABLE_CUDA=1</c>; the driver library loads (see <c>ARTIFEX_LIBCUDA</c> and
/// <c>ARTIFEX_CUDA_LIB_PATH</c>); <c>cuInit(0)</c> succeeds; <c>cuDeviceGetCount</c> is positive.
/// </remarks>
public static unsafe class CudaProbe
{
    /// <summary>The variable that turns CUDA off (<c>1</c> or <c>true</c>), e.g. to force the CPU provider on a GPU machine.</summary>
    public const string DisableVariable = "ARTIFEX_DISABLE_CUDA";

    private const int DeviceNameBytes = 256;

    private static readonly Lazy<CudaProbeResult> s_current = new(Detect, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Gets the result of the first <see cref="Detect()"/> of this process (cached).</summary>
    public static CudaProbeResult Current => s_current.Value;

    /// <summary>Probes now, without the cache; never throws.</summary>
    /// <returns>What was found.</returns>
    public static CudaProbeResult Detect() => Detect(Environment.GetEnvironmentVariable);

    /// <summary>Probes now with a given variable lookup (tests pass a fake); never throws.</summary>
    /// <param name="getEnvironmentVariable">Reads <see cref="DisableVariable"/>. The libraries themselves always come from the
    /// process-wide resolver, since the bindings load through it.</param>
    /// <returns>What was found.</returns>
    internal static CudaProbeResult Detect(Func<string, string?> getEnvironmentVariable)
    {
        ArgumentNullException.ThrowIfNull(getEnvironmentVariable);
        string? disabled = getEnvironmentVariable(DisableVariable)?.Trim();
        if (string.Equals(disabled, "1", StringComparison.Ordinal) || string.Equals(disabled, "true", StringComparison.OrdinalIgnoreCase))
        {
            string reason = $"disabled by {DisableVariable}={disabled}";
            return new CudaProbeResult { Reason = reason, CublasReason = reason, NcclReason = reason, NvrtcReason = reason };
        }

        (string? cublasReason, string? cublasVersion) = ProbeLibrary(CudaLibrary.Cublas, ReadCublasVersion);
        (string? ncclReason, string? ncclVersion) = ProbeLibrary(CudaLibrary.Nccl, ReadNcclVersion);
        (string? nvrtcReason, string? nvrtcVersion) = ProbeLibrary(CudaLibrary.Nvrtc, ReadNvrtcVersion);
        DriverFacts driver = ProbeDriver();
        return new CudaProbeResult
        {
            IsAvailable = driver.Reason is null,
            Reason = driver.Reason,
            DeviceCount = driver.Names.Count,
            DriverVersion = driver.Version,
            DeviceNames = driver.Names,
            CublasReason = cublasReason,
            CublasVersion = cublasVersion,
            NcclReason = ncclReason,
            NcclVersion = ncclVersion,
            NvrtcReason = nvrtcReason,
            NvrtcVersion = nvrtcVersion,
        };
    }

    /// <summary>Decodes <c>ncclGetVersion</c>: <c>major*10000 + minor*100 + patch</c> from 2.9 on, <c>major*1000 + minor*100 + patch</c> before (nccl.h's <c>NCCL_VERSION</c>).</summary>
    /// <param name="code">The version code.</param>
    /// <returns>E.g. <c>2.30.7</c> for 23007.</returns>
    internal static string FormatNcclVersion(int code) => code >= 10000
        ? string.Create(CultureInfo.InvariantCulture, $"{code / 10000}.{code % 10000 / 100}.{code % 100}")
        : string.Create(CultureInfo.InvariantCulture, $"{code / 1000}.{code % 1000 / 100}.{code % 100}");

    private static DriverFacts ProbeDriver()
    {
        if (!CudaLibraries.TryLoad(CudaLibrary.Driver, out string? reason))
        {
            return new DriverFacts(reason ?? "the CUDA driver did not load", 0, []);
        }

        try
        {
            // The version is readable without cuInit, so a machine whose init fails still reports its driver.
            int version = 0;
            _ = CuDriver.cuDriverGetVersion(&version);
            CuResult init = CuDriver.cuInit(0);
            if (init != CuResult.Success)
            {
                return new DriverFacts($"cuInit failed: {Describe(init)}", version, []);
            }

            int count = 0;
            CuResult counted = CuDriver.cuDeviceGetCount(&count);
            if (counted != CuResult.Success)
            {
                return new DriverFacts($"cuDeviceGetCount failed: {Describe(counted)}", version, []);
            }

            return count <= 0
                ? new DriverFacts("the CUDA driver sees no GPU (cuDeviceGetCount returned 0; check CUDA_VISIBLE_DEVICES)", version, [])
                : new DriverFacts(null, version, ReadDeviceNames(count));
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException)
        {
            return new DriverFacts($"the CUDA driver loaded but lacks an entry point: {error.Message}", 0, []);
        }
    }

    private static string[] ReadDeviceNames(int count)
    {
        string[] names = new string[count];
        byte* buffer = stackalloc byte[DeviceNameBytes];
        for (int ordinal = 0; ordinal < count; ordinal++)
        {
            int device = 0;
            CuResult result = CuDriver.cuDeviceGet(&device, ordinal);
            if (result == CuResult.Success)
            {
                buffer[0] = 0;
                result = CuDriver.cuDeviceGetName(buffer, DeviceNameBytes, device);
            }

            names[ordinal] = result == CuResult.Success
                ? Marshal.PtrToStringUTF8((nint)buffer) ?? string.Empty
                : string.Create(CultureInfo.InvariantCulture, $"device {ordinal} (name unknown: {Describe(result)})");
        }

        return names;
    }

    private static string Describe(CuResult result) =>
        string.Create(CultureInfo.InvariantCulture, $"{CudaCheck.DriverName(result)} ({(int)result})");

    private static (string? Reason, string? Version) ProbeLibrary(CudaLibrary library, Func<string?> readVersion)
    {
        if (!CudaLibraries.TryLoad(library, out string? reason))
        {
            return (reason ?? "did not load", null);
        }

        try
        {
            return (null, readVersion());
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException)
        {
            // The file loaded but is not the library we expect (or too old for the version query): report it loaded, version unknown.
            return (null, null);
        }
    }

    private static string? ReadCublasVersion()
    {
        int major = 0, minor = 0, patch = 0;
        return Cublas.cublasGetProperty(Cublas.PropertyMajor, &major) == CublasStatus.Success
            && Cublas.cublasGetProperty(Cublas.PropertyMinor, &minor) == CublasStatus.Success
            && Cublas.cublasGetProperty(Cublas.PropertyPatch, &patch) == CublasStatus.Success
            ? string.Create(CultureInfo.InvariantCulture, $"{major}.{minor}.{patch}")
            : null;
    }

    private static string? ReadNcclVersion()
    {
        int code = 0;
        return Nccl.ncclGetVersion(&code) == NcclResult.Success ? FormatNcclVersion(code) : null;
    }

    private static string? ReadNvrtcVersion()
    {
        int major = 0, minor = 0;
        return Nvrtc.nvrtcVersion(&major, &minor) == NvrtcResult.Success
            ? string.Create(CultureInfo.InvariantCulture, $"{major}.{minor}")
            : null;
    }

    private readonly record struct DriverFacts(string? Reason, int Version, IReadOnlyList<string> Names);
}
