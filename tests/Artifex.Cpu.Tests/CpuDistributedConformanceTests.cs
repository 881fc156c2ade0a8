using Artifex.Conformance;

namespace Artifex.Cpu.Tests;

public sealed class CpuDistributedConformanceTests : DistributedConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount) => new CpuProvider(deviceCount);
}
