using Artifex.Conformance;

namespace Artifex.Cuda.Tests;

/// <summary>The provider-neutral devicemeshmanager suite on GPUs: skipped without enough GPUs (failed instead with ARTIFEX_REQUIRE_GPU=1 and none).</summary>
public sealed class CudaDeviceMeshManagerConformanceTests : DeviceMeshManagerConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount) => GpuEnvironment.CreateProvider(deviceCount);
}
