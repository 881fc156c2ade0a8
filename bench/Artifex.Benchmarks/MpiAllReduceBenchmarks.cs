using Artifex.Mpi;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// The MPI provider's float all-reduce (sum, in place) on its local devices, in one process (MPI's singleton mode, a
/// world of one): the shared host rendezvous, the local reduction in rank order and the copy back, which every
/// hierarchical collective runs before and after its MPI call. BenchmarkDotNet cannot run under <c>mpirun</c>; the
/// cross-process figures come from <c>artifex-perf allreduce --provider mpi</c> (docs/PERFORMANCE.md, issue 9).
/// </summary>
[MemoryDiagnoser]
public class MpiAllReduceBenchmarks
{
    public const int OpsPerRegion = InRegionAllReduceWorkload.OpsPerRegion;

    private MpiProvider _provider = null!;
    private InRegionAllReduceWorkload _workload = null!;

    [Params(1, 2)]
    public int LocalDevices { get; set; }

    [Params(4, 64 << 10, 16 << 20)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new MpiProvider(LocalDevices);
        _workload = new InRegionAllReduceWorkload(_provider, Bytes);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _workload.Dispose();
        _provider.Dispose();
    }

    [Benchmark(OperationsPerInvoke = OpsPerRegion)]
    public void InRegion() => _provider.RunSpmd(_workload.Mesh, _workload.Body);
}
