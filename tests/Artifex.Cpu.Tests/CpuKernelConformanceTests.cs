using Artifex.Conformance;

namespace Artifex.Cpu.Tests;

public sealed class CpuKernelConformanceTests : KernelConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount) => new CpuProvider(deviceCount);
}
