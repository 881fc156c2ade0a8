using Artifex.Cpu;
using Artifex.Mpi;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// The MPI provider's local step against the CPU provider's in-region all-reduce of the same buffers, in one run: two
/// devices, 16 MiB each, float sum in place. Without <c>mpirun</c> the MPI provider's world is this process, so its
/// all-reduce is exactly the local step (the CPU provider's fused pass, composed); the bar is within 1.3× of the CPU
/// provider.
/// </summary>
public class MpiLocalStepBenchmarks : InRegionAllReduceBenchmark
{
    [Params("cpu", "mpi")]
    public string Provider { get; set; } = "cpu";

    protected override int WorkloadBytes => 16 << 20;

    protected override DeviceProvider CreateProvider() =>
        string.Equals(Provider, "mpi", StringComparison.Ordinal) ? new MpiProvider(2) : new CpuProvider(2);
}
