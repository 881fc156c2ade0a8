using Artifex.Conformance;

namespace Artifex.Mpi.Tests;

/// <summary>The non-blocking collective suite on the MPI provider in one process; skipped without OpenMPI.</summary>
public sealed class MpiNonBlockingCollectiveConformanceTests : NonBlockingCollectiveConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount)
    {
        _ = InProcessMpi.World();
        return new MpiProvider(deviceCount);
    }
}
