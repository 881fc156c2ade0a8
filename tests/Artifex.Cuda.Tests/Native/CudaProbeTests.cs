using Artifex.Cuda.Native;

namespace Artifex.Cuda.Tests.Native;

public sealed class CudaProbeTests
{
    [Theory]
    [InlineData("1")]
    [InlineData("true")]
    [InlineData("TRUE")]
    public void Detect_DisableVariable_MakesCudaUnavailable_WithoutLoadingAnything(string value)
    {
        CudaProbeResult result = CudaProbe.Detect(FakeEnvironment.Of(("ARTIFEX_DISABLE_CUDA", value)));

        Assert.False(result.IsAvailable);
        Assert.Equal($"disabled by ARTIFEX_DISABLE_CUDA={value}", result.Reason);
        Assert.Equal(0, result.DeviceCount);
        Assert.Empty(result.DeviceNames);
        Assert.False(result.IsCublasAvailable || result.IsNcclAvailable || result.IsNvrtcAvailable);
        Assert.StartsWith($"CUDA unavailable: disabled by ARTIFEX_DISABLE_CUDA={value}", result.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("0")]
    [InlineData("")]
    public void Detect_DisableVariableUnsetOrZero_ProbesTheMachine(string? value)
    {
        CudaProbeResult result = CudaProbe.Detect(FakeEnvironment.Of(("ARTIFEX_DISABLE_CUDA", value)));

        Assert.DoesNotContain("ARTIFEX_DISABLE_CUDA", result.Reason ?? string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    public void Detect_OnThisMachine_NeverThrows_AndIsConsistent()
    {
        CudaProbeResult result = CudaProbe.Detect();
        TestContext.Current.SendDiagnosticMessage($"probe: {result}");

        Assert.Equal(result.IsAvailable, result.Reason is null);
        Assert.Equal(result.DeviceCount, result.DeviceNames.Count);
        Assert.Equal(result.IsAvailable, result.DeviceCount > 0);
        Assert.Equal(result.IsCublasAvailable, CudaLibraries.TryLoad(CudaLibrary.Cublas, out _));
        Assert.Equal(result.IsNcclAvailable, CudaLibraries.TryLoad(CudaLibrary.Nccl, out _));
        Assert.Equal(result.IsNvrtcAvailable, CudaLibraries.TryLoad(CudaLibrary.Nvrtc, out _));
        if (!CudaLibraries.TryLoad(CudaLibrary.Driver, out string? reason))
        {
            // No driver here (CI, laptops): the reason is the loader's, naming the soname and the paths tried.
            Assert.Equal(reason, result.Reason);
            Assert.StartsWith("libcuda.so.1 not found (tried ", result.Reason, StringComparison.Ordinal);
            Assert.Equal(0, result.DriverVersion);
        }
    }

    [Fact]
    public void Current_IsCached()
    {
        Assert.Same(CudaProbe.Current, CudaProbe.Current);
        Assert.False(string.IsNullOrWhiteSpace(CudaProbe.Current.ToString()));
    }

    [Theory]
    [InlineData(23007, "2.30.7")]
    [InlineData(21903, "2.19.3")]
    [InlineData(20900, "2.9.0")]
    [InlineData(2708, "2.7.8")]
    public void FormatNcclVersion_DecodesBothEncodings(int code, string expected)
    {
        Assert.Equal(expected, CudaProbe.FormatNcclVersion(code));
    }

    [Fact]
    public void ToString_Available_SummarisesDriverDevicesAndLibraries()
    {
        var result = new CudaProbeResult
        {
            IsAvailable = true,
            DeviceCount = 1,
            DriverVersion = 13000,
            DeviceNames = ["NVIDIA H100 80GB HBM3"],
            CublasVersion = "13.1.0",
            NcclVersion = "2.30.7",
            NvrtcReason = "libnvrtc.so.13 or libnvrtc.so.12 not found (tried 2 paths: a, b; set ARTIFEX_LIBNVRTC or ARTIFEX_CUDA_LIB_PATH)",
        };

        Assert.Equal(
            "CUDA available: driver 13.0 (13000), 1 device: NVIDIA H100 80GB HBM3; cuBLAS 13.1.0; NCCL 2.30.7; NVRTC unavailable: libnvrtc.so.13 or libnvrtc.so.12 not found (tried 2 paths: a, b; set ARTIFEX_LIBNVRTC or ARTIFEX_CUDA_LIB_PATH)",
            result.ToString());
    }

    [Fact]
    public void ToString_Unavailable_LeadsWithTheReason()
    {
        var result = new CudaProbeResult
        {
            Reason = "cuInit failed: CUDA_ERROR_NO_DEVICE (100)",
            DriverVersion = 12080,
            CublasReason = "x",
            NcclReason = "y",
        };

        Assert.Equal(
            "CUDA unavailable: cuInit failed: CUDA_ERROR_NO_DEVICE (100); driver 12.8 (12080); cuBLAS unavailable: x; NCCL unavailable: y; NVRTC (version unknown)",
            result.ToString());
    }
}
