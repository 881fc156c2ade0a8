using Artifex.Conformance;

namespace Artifex.Mpi.Tests;

/// <summary>ZeRO stage 1 on the MPI provider in one process, bitwise equal to replicated Adam; skipped without OpenMPI.</summary>
public sealed class MpiShardedAdamConformanceTests : ShardedAdamConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount)
    {
        _ = InProcessMpi.World();
        return new MpiProvider(deviceCount);
    }
}
