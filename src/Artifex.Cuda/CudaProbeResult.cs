using System.Globalization;
using System.Text;

namespace Artifex.Cuda;

/// <summary>What <see cref="CudaProbe"/> found: whether CUDA is usable, and which CUDA libraries load, with their versions.</summary>
public sealed class CudaProbeResult
{
    internal CudaProbeResult()
    {
    }

    /// <summary>Gets a value indicating whether the driver loads, initializes and sees at least one GPU.</summary>
    public bool IsAvailable { get; internal init; }

    /// <summary>Gets why CUDA is not usable, or <see langword="null"/> when <see cref="IsAvailable"/>.</summary>
    public string? Reason { get; internal init; }

    /// <summary>Gets the number of GPUs the driver sees (0 when unavailable).</summary>
    public int DeviceCount { get; internal init; }

    /// <summary>Gets the CUDA version the driver supports, as <c>cuDriverGetVersion</c> encodes it (e.g. 13000 for 13.0); 0 when unknown.</summary>
    public int DriverVersion { get; internal init; }

    /// <summary>Gets the name of each GPU by ordinal, e.g. <c>NVIDIA H100 80GB HBM3</c>.</summary>
    public IReadOnlyList<string> DeviceNames { get; internal init; } = [];

    /// <summary>Gets why cuBLAS does not load, or <see langword="null"/> when it does.</summary>
    public string? CublasReason { get; internal init; }

    /// <summary>Gets why NCCL does not load, or <see langword="null"/> when it does.</summary>
    public string? NcclReason { get; internal init; }

    /// <summary>Gets why NVRTC does not load, or <see langword="null"/> when it does.</summary>
    public string? NvrtcReason { get; internal init; }

    /// <summary>Gets cuBLAS's version (<c>major.minor.patch</c> from <c>cublasGetProperty</c>), or <see langword="null"/>.</summary>
    public string? CublasVersion { get; internal init; }

    /// <summary>Gets NCCL's version (e.g. <c>2.30.7</c> from <c>ncclGetVersion</c>), or <see langword="null"/>.</summary>
    public string? NcclVersion { get; internal init; }

    /// <summary>Gets NVRTC's version (<c>major.minor</c> from <c>nvrtcVersion</c>), or <see langword="null"/>.</summary>
    public string? NvrtcVersion { get; internal init; }

    /// <summary>Gets a value indicating whether cuBLAS loads.</summary>
    public bool IsCublasAvailable => CublasReason is null;

    /// <summary>Gets a value indicating whether NCCL loads.</summary>
    public bool IsNcclAvailable => NcclReason is null;

    /// <summary>Gets a value indicating whether NVRTC loads.</summary>
    public bool IsNvrtcAvailable => NvrtcReason is null;

    /// <summary>Summarises the result in one line, for logs and test output.</summary>
    /// <returns>E.g. <c>CUDA available: driver 13.0 (13000), 1 device: NVIDIA H100 80GB HBM3; cuBLAS 13.1.0; NCCL 2.30.7; NVRTC 13.0</c>.</returns>
    public override string ToString()
    {
        var text = new StringBuilder(IsAvailable ? "CUDA available" : "CUDA unavailable: " + Reason);
        if (DriverVersion > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{(IsAvailable ? ": " : "; ")}driver {DriverVersion / 1000}.{DriverVersion % 1000 / 10} ({DriverVersion})");
        }

        if (IsAvailable)
        {
            text.Append(CultureInfo.InvariantCulture, $", {DeviceCount} device{(DeviceCount == 1 ? string.Empty : "s")}: {string.Join(", ", DeviceNames)}");
        }

        AppendLibrary(text, "cuBLAS", CublasReason, CublasVersion);
        AppendLibrary(text, "NCCL", NcclReason, NcclVersion);
        AppendLibrary(text, "NVRTC", NvrtcReason, NvrtcVersion);
        return text.ToString();
    }

    private static void AppendLibrary(StringBuilder text, string name, string? reason, string? version)
    {
        text.Append("; ").Append(name);
        if (reason is not null)
        {
            text.Append(" unavailable: ").Append(reason);
        }
        else
        {
            text.Append(' ').Append(version ?? "(version unknown)");
        }
    }
}
