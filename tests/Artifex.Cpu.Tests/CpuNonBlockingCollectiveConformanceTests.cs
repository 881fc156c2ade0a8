using Artifex.Conformance;

namespace Artifex.Cpu.Tests;

public sealed class CpuNonBlockingCollectiveConformanceTests : NonBlockingCollectiveConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount) => new CpuProvider(deviceCount);
}
