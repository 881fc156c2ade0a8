using Artifex.Cpu;
using Artifex.Cuda;
using Artifex.Distributed;
using Artifex.Mpi;
using Artifex.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Artifex.Samples.Tests;

/// <summary>The README's dependency-injection snippet: compiled and run here with every provider registered, and compared with README.md.</summary>
public sealed class ReadmeHostingExampleTests
{
    [Fact]
    public void HostingSnippet_ResolvesTheCpuProviderByDefault_AndIsInReadme()
    {
        string[] args = ["--Artifex:Cpu:DeviceCount=2"];
        // example:hosting:begin
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddArtifex(builder.Configuration)        // DataParallel, DistributedMetrics, DeviceMeshManager, default DeviceProvider
            .AddArtifexCpu(builder.Configuration)                   // keyed "cpu", options from Artifex:Cpu
            .AddArtifexCuda(builder.Configuration)                  // keyed "cuda"
            .AddArtifexMpi(builder.Configuration);                  // keyed "mpi", options from Artifex:Mpi (LocalDeviceCount)
        // example:hosting:end
        using IHost host = builder.Build();

        DeviceProvider provider = host.Services.GetRequiredService<DeviceProvider>();
        Assert.IsType<CpuProvider>(provider);
        Assert.Equal(2, provider.Devices.Count);
        Assert.Equal(2, host.Services.GetRequiredService<DeviceMeshManager>().CreateDataParallelMesh().Size);
        Assert.NotNull(host.Services.GetRequiredService<DataParallel>());
        ReadmeText.AssertExample("hosting", ["tests", "Artifex.Samples.Tests", "ReadmeHostingExampleTests.cs"]);
    }
}
