using Microsoft.Extensions.DependencyInjection;

namespace Artifex.Mpi.Tests;

/// <summary>The keyed "mpi" registration resolves the provider (a world of one in the test process).</summary>
[Collection(InProcessMpi.Collection)]
public sealed class MpiServiceCollectionTests
{
    [Fact]
    public void AddArtifexMpi_ChosenByConfiguration_ResolvesTheMpiProviderWithItsLocalDevices()
    {
        _ = InProcessMpi.World();
        using ServiceProvider services = new ServiceCollection()
            .AddArtifex(o => o.Provider = MpiProvider.ProviderName)
            .AddArtifexMpi(o => o.LocalDeviceCount = 3)
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var provider = Assert.IsType<MpiProvider>(services.GetRequiredService<DeviceProvider>());
        Assert.Equal(3, provider.LocalDevices.Count);
        Assert.Equal((0, 1), (provider.ProcessIndex, provider.ProcessCount));
    }
}
