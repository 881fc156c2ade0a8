using Artifex.Conformance;

namespace Artifex.Mpi.Tests;

/// <summary>The provider-neutral memory suite on the MPI provider in one process (every group local); skipped without OpenMPI.</summary>
public sealed class MpiMemoryConformanceTests : MemoryConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount)
    {
        _ = InProcessMpi.World();
        return new MpiProvider(deviceCount);
    }
}
