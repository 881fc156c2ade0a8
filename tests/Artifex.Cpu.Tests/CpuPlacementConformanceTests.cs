using Artifex.Conformance;

namespace Artifex.Cpu.Tests;

public sealed class CpuPlacementConformanceTests : PlacementConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount) => new CpuProvider(deviceCount);
}
