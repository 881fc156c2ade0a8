using Artifex.Conformance;

namespace Artifex.Mpi.Tests;

/// <summary>The provider-neutral placement suite on the MPI provider in one process (every group local); skipped without OpenMPI.</summary>
public sealed class MpiPlacementConformanceTests : PlacementConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount)
    {
        _ = InProcessMpi.World();
        return new MpiProvider(deviceCount);
    }
}
