using Artifex.Conformance;

namespace Artifex.Cpu.Tests;

/// <summary>ZeRO stage 1 on CPU devices: bitwise equal to replicated Adam (the reduce-scatter sums in rank order, as the all-reduce).</summary>
public sealed class CpuShardedAdamConformanceTests : ShardedAdamConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount) => new CpuProvider(deviceCount);
}
