using Artifex.Conformance;

namespace Artifex.Cpu.Tests;

public sealed class CpuGradientReducerConformanceTests : GradientReducerConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount) => new CpuProvider(deviceCount);
}
