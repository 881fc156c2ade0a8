using Artifex.Conformance;

namespace Artifex.Mpi.Tests;

/// <summary>The gradient reducer suite on the MPI provider in one process; skipped without OpenMPI.</summary>
public sealed class MpiGradientReducerConformanceTests : GradientReducerConformanceTests
{
    protected override DeviceProvider CreateProvider(int deviceCount)
    {
        _ = InProcessMpi.World();
        return new MpiProvider(deviceCount);
    }
}
