using Artifex.Conformance;

namespace Artifex.Cpu.Tests;

public sealed class CpuMemoryConformanceTests : MemoryConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount) => new CpuProvider(deviceCount);
}
