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
[MemoryDiagnoser]
public class MpiLocalStepBenchmarks
{
    public const int OpsPerRegion = InRegionAllReduceWorkload.OpsPerRegion;

    private DeviceProvider _provider = null!;
    private InRegionAllReduceWorkload _workload = null!;

    [Params("cpu", "mpi")]
    public string Provider { get; set; } = "cpu";

    [Params(16 << 20)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = string.Equals(Provider, "mpi", StringComparison.Ordinal) ? new MpiProvider(2) : new CpuProvider(2);
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
