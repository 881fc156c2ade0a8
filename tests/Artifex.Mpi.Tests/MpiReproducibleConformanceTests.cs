using Artifex.Conformance;

namespace Artifex.Mpi.Tests;

/// <summary>Reproducible collectives on the MPI provider in one process (states merged by an exact Double sum); skipped without OpenMPI.</summary>
public sealed class MpiReproducibleConformanceTests : ReproducibleConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount)
    {
        _ = InProcessMpi.World();
        return new MpiProvider(deviceCount);
    }
}
