using Artifex.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Artifex.Cpu.Tests.DependencyInjection;

[Collection(ProcessState.Name)]
public sealed class ArtifexServiceCollectionTests
{
    private static readonly ServiceProviderOptions s_strict = new() { ValidateOnBuild = true, ValidateScopes = true };

    [Fact]
    public void AddArtifexWithCpu_ResolvesEveryCoreServiceOnTheCpuProvider()
    {
        using ServiceProvider services = new ServiceCollection().AddArtifex().AddArtifexCpu(o => o.DeviceCount = 4).BuildServiceProvider(s_strict);
        var provider = Assert.IsType<CpuProvider>(services.GetRequiredService<DeviceProvider>());
        Assert.Equal(4, provider.Devices.Count);
        Assert.Same(provider, services.GetRequiredKeyedService<DeviceProvider>("cpu"));
        Assert.Equal(4, services.GetRequiredService<DeviceMeshManager>().NumDevices);
        Assert.NotNull(services.GetRequiredService<DataParallel>());
        Assert.NotNull(services.GetRequiredService<DistributedMetrics>());
        Assert.Same(AmbientCollectives.Instance, services.GetRequiredService<ICollectives>());
    }

    [Fact]
    public void AddArtifexFromConfiguration_BindsProviderAndCpuSection()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Artifex:Provider"] = "cpu",
            ["Artifex:Cpu:DeviceCount"] = "3",
            ["Artifex:Cpu:CollectiveTimeout"] = "00:00:05",
            ["Artifex:Cpu:CachedBytesLimit"] = "1024",
        }).Build();
        using ServiceProvider services = new ServiceCollection().AddArtifex(configuration).AddArtifexCpu(configuration).BuildServiceProvider(s_strict);
        var provider = (CpuProvider)services.GetRequiredService<DeviceProvider>();
        Assert.Equal(3, provider.Devices.Count);
        Assert.Equal(TimeSpan.FromSeconds(5), provider.CollectiveTimeout);
        Assert.Equal(1024, provider.CachedBytesLimit);
        Assert.Equal("cpu", services.GetRequiredService<IOptions<ArtifexOptions>>().Value.Provider);
    }

    [Fact]
    public void UnknownProvider_FailsAtStartListingRegisteredProviders()
    {
        using ServiceProvider services = new ServiceCollection().AddArtifex(o => o.Provider = "tpu").AddArtifexCpu().BuildServiceProvider(s_strict);
        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<DeviceProvider>());
        Assert.Contains("Unknown Artifex provider 'tpu' (Artifex:Provider). Registered providers: cpu.", error.Message, StringComparison.Ordinal);
        Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());
    }

    [Fact]
    public void DeviceCountBelowOne_FailsAtStartNamingTheKey()
    {
        using ServiceProvider services = new ServiceCollection().AddArtifex().AddArtifexCpu(o => o.DeviceCount = 0).BuildServiceProvider(s_strict);
        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<DeviceProvider>());
        Assert.Contains("Artifex:Cpu:DeviceCount must be at least 1, but is 0.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NegativeCacheLimitAndZeroTimeout_FailAtStartNamingTheKeys()
    {
        using ServiceProvider services = new ServiceCollection().AddArtifex().AddArtifexCpu(o =>
        {
            o.CachedBytesLimit = -1;
            o.CollectiveTimeout = TimeSpan.Zero;
        }).BuildServiceProvider(s_strict);
        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<DeviceProvider>());
        Assert.Contains("Artifex:Cpu:CachedBytesLimit must not be negative, but is -1.", error.Message, StringComparison.Ordinal);
        Assert.Contains("Artifex:Cpu:CollectiveTimeout must be positive, but is 00:00:00.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyProviderName_FailsAtStart()
    {
        using ServiceProvider services = new ServiceCollection().AddArtifex(o => o.Provider = " ").AddArtifexCpu().BuildServiceProvider(s_strict);
        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<DataParallel>() is not null && services.GetRequiredService<DeviceMeshManager>() is not null);
        Assert.Contains("Artifex:Provider is empty. Registered providers: cpu.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DisposingTheContainer_DisposesTheProviderFreesAndLogsLiveBuffers()
    {
        var logger = new CapturingLogger<CpuProvider>();
        ServiceProvider services = new ServiceCollection()
            .AddSingleton<ILogger<CpuProvider>>(logger)
            .AddArtifex()
            .AddArtifexCpu(o => o.DeviceCount = 2)
            .BuildServiceProvider(s_strict);
        DeviceProvider provider = services.GetRequiredService<DeviceProvider>();
        DeviceBuffer forgotten = provider.Allocate<float>(provider.Devices[1], 256);
        services.Dispose();
        Assert.True(provider.IsDisposed);
        Assert.True(forgotten.IsDisposed);
        Assert.Equal(0, provider.LiveBufferCount);
        Assert.Contains(logger.Messages, m => m.StartsWith("Information: CPU provider started: 2 emulated devices", StringComparison.Ordinal));
        Assert.Contains(logger.Messages, m => string.Equals(m, "Warning: The cpu provider freed 1 device buffers (1024 bytes) that were still live when it was disposed.", StringComparison.Ordinal));
    }

    [Fact]
    public void RegionFailure_IsLogged()
    {
        var logger = new CapturingLogger<CpuProvider>();
        using var provider = new CpuProvider(new CpuProviderOptions { DeviceCount = 2, CollectiveTimeout = TimeSpan.FromMilliseconds(200) }, logger);
        var mesh = new Mesh(provider.Devices, ("data", 2));
        Assert.Throws<TimeoutException>(() => provider.RunSpmd(mesh, context =>
        {
            if (context.DeviceIndex == 0)
            {
                Collectives.Barrier("data");
            }
        }));
        Assert.Contains(logger.Messages, m => m.StartsWith("Warning: A collective timed out on Mesh('data': 2)", StringComparison.Ordinal));
    }

    [Fact]
    public void UserRegistrations_WinOverTheDefaults()
    {
        using var mine = new CpuProvider(5);
        var myDataParallel = new DataParallel(AmbientCollectives.Instance, bucketSizeBytes: 0);
        using ServiceProvider services = new ServiceCollection()
            .AddKeyedSingleton<DeviceProvider>("cpu", mine)
            .AddSingleton(myDataParallel)
            .AddArtifex()
            .AddArtifexCpu(o => o.DeviceCount = 2)
            .BuildServiceProvider(s_strict);
        Assert.Same(mine, services.GetRequiredService<DeviceProvider>());
        Assert.Same(myDataParallel, services.GetRequiredService<DataParallel>());
        Assert.Equal(5, services.GetRequiredService<DeviceMeshManager>().NumDevices);
    }
}
