using Artifex.Conformance;

namespace Artifex.Cpu.Tests;

public sealed class CpuCollectiveConformanceTests : CollectiveConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount) => new CpuProvider(deviceCount);
}
