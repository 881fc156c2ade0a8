using Artifex.Cpu;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Artifex.Cuda.Tests.DependencyInjection;

/// <summary>Choosing the CUDA provider through configuration beside the CPU provider, on a machine without a usable GPU.</summary>
public sealed class CudaServiceCollectionTests
{
    private static readonly ServiceProviderOptions s_strict = new() { ValidateOnBuild = true, ValidateScopes = true };

    [Fact]
    public void UnknownProvider_FailsAtStartListingBothRegisteredProviders()
    {
        using ServiceProvider services = new ServiceCollection().AddArtifex(o => o.Provider = "tpu").AddArtifexCpu().AddArtifexCuda().BuildServiceProvider(s_strict);
        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<DeviceProvider>());
        Assert.Contains("Unknown Artifex provider 'tpu' (Artifex:Provider). Registered providers: cpu, cuda.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CudaChosen_FailsAtStartSayingWhyAndHowToFallBack_NeverDllNotFound()
    {
        Assert.SkipWhen(CudaProbe.Current.IsAvailable, "A GPU is usable here, so the CUDA provider starts.");
        using ServiceProvider services = new ServiceCollection().AddArtifex(o => o.Provider = "cuda").AddArtifexCpu().AddArtifexCuda().BuildServiceProvider(s_strict);
        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<DeviceProvider>());
        Assert.Contains($"Artifex:Provider is 'cuda', but {CudaServiceCollectionExtensions.UnavailableReason}", error.Message, StringComparison.Ordinal);
        Assert.Contains("set Artifex:Provider=cpu (environment variable Artifex__Provider=cpu", error.Message, StringComparison.Ordinal);
        Assert.Contains(CudaProbe.Current.Reason!, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyedResolution_CpuResolvesAndCudaThrowsPlatformNotSupported()
    {
        Assert.SkipWhen(CudaProbe.Current.IsAvailable, "A GPU is usable here, so the CUDA provider starts.");
        using ServiceProvider services = new ServiceCollection().AddArtifexCpu().AddArtifexCuda().BuildServiceProvider(s_strict);
        Assert.IsType<CpuProvider>(services.GetRequiredKeyedService<DeviceProvider>("cpu"));
        PlatformNotSupportedException error = Assert.Throws<PlatformNotSupportedException>(() => services.GetRequiredKeyedService<DeviceProvider>("cuda"));
        Assert.Contains(CudaServiceCollectionExtensions.UnavailableReason!, error.Message, StringComparison.Ordinal);
    }
}
