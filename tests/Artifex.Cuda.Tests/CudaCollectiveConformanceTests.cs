using Artifex.Conformance;

namespace Artifex.Cuda.Tests;

/// <summary>The provider-neutral collective suite on GPUs: skipped without enough GPUs (failed instead with ARTIFEX_REQUIRE_GPU=1 and none).</summary>
public sealed class CudaCollectiveConformanceTests : CollectiveConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount) => GpuEnvironment.CreateProvider(deviceCount);

    protected override ForeignMemory AllocateForeign(DeviceProvider provider, Device device, long bytes) => GpuForeignMemory.Allocate(provider, device, bytes);
}
