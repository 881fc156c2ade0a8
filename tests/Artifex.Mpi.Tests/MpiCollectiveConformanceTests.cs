using Artifex.Conformance;

namespace Artifex.Mpi.Tests;

/// <summary>The provider-neutral collective suite on the MPI provider in one process (every group local); skipped without OpenMPI.</summary>
public sealed class MpiCollectiveConformanceTests : CollectiveConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount)
    {
        _ = InProcessMpi.World();
        return new MpiProvider(deviceCount);
    }
}
