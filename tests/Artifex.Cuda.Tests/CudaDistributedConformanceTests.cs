using Artifex.Conformance;

namespace Artifex.Cuda.Tests;

/// <summary>The Distributed layer's suite on GPUs: skipped without enough GPUs (failed instead with ARTIFEX_REQUIRE_GPU=1 and none).</summary>
public sealed class CudaDistributedConformanceTests : DistributedConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount) => GpuEnvironment.CreateProvider(deviceCount);
}
