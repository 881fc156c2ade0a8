using Artifex.Conformance;

namespace Artifex.Cuda.Tests;

/// <summary>The provider-neutral placement suite on GPUs: skipped without enough GPUs (failed instead with ARTIFEX_REQUIRE_GPU=1 and none).</summary>
public sealed class CudaPlacementConformanceTests : PlacementConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount) => GpuEnvironment.CreateProvider(deviceCount);
}
