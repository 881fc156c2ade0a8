using Artifex.Conformance;

namespace Artifex.Cpu.Tests;

public sealed class CpuDeviceMeshManagerConformanceTests : DeviceMeshManagerConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount) => new CpuProvider(deviceCount);
}
