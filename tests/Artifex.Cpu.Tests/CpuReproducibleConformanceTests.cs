using Artifex.Conformance;

namespace Artifex.Cpu.Tests;

/// <summary>Reproducible collectives on CPU devices: the fused pass of the collective executor.</summary>
public sealed class CpuReproducibleConformanceTests : ReproducibleConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount) => new CpuProvider(deviceCount);
}
