using Artifex.Mpi;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// The MPI provider's float all-reduce (sum, in place) on its local devices, in one process (MPI's singleton mode, a
/// world of one): the shared runtime's rendezvous and the local step (the CPU provider's executor), which every
/// hierarchical collective runs before its MPI call. BenchmarkDotNet cannot run under <c>mpirun</c>; the cross-process
/// figures come from <c>artifex-perf allreduce --provider mpi</c> (docs/PERFORMANCE.md).
/// </summary>
public class MpiAllReduceBenchmarks : InRegionAllReduceBenchmark
{
    [Params(1, 2)]
    public int LocalDevices { get; set; }

    [Params(4, 64 << 10, 16 << 20)]
    public int Bytes { get; set; }

    protected override int WorkloadBytes => Bytes;

    protected override DeviceProvider CreateProvider() => new MpiProvider(LocalDevices);
}
