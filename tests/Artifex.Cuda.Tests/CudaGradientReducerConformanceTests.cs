using Artifex.Conformance;

namespace Artifex.Cuda.Tests;

/// <summary>The gradient reducer suite on GPUs: skipped without enough GPUs (failed instead with ARTIFEX_REQUIRE_GPU=1 and none).</summary>
public sealed class CudaGradientReducerConformanceTests : GradientReducerConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount) => GpuEnvironment.CreateProvider(deviceCount);
}
