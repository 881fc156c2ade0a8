using Artifex.Conformance;

namespace Artifex.Cuda.Tests;

/// <summary>
/// Reproducible collectives on GPUs (deposit kernels, an NCCL Double sum of the unbiased states, which is exact and so
/// order-free, and the finalize kernel): the CPU provider's bits. Skipped without enough GPUs (failed instead with
/// ARTIFEX_REQUIRE_GPU=1 and none).
/// </summary>
public sealed class CudaReproducibleConformanceTests : ReproducibleConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount) => GpuEnvironment.CreateProvider(deviceCount);
}
