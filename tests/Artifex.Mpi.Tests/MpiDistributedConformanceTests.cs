using Artifex.Conformance;

namespace Artifex.Mpi.Tests;

/// <summary>The Distributed layer's suite on the MPI provider in one process; skipped without OpenMPI.</summary>
public sealed class MpiDistributedConformanceTests : DistributedConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount)
    {
        _ = InProcessMpi.World();
        return new MpiProvider(deviceCount);
    }
}
