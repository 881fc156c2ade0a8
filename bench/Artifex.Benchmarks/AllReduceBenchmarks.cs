using Artifex.Cpu;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// Float all-reduce (sum, in place) on N emulated devices: inside a running SPMD region (the training-loop path)
/// and host-issued on a global array's shards. Time is per collective; the memory diagnoser shows that neither
/// path allocates per call (the in-region figure includes one region launch shared by <see cref="OpsPerRegion"/> calls).
/// </summary>
[MemoryDiagnoser]
public class AllReduceBenchmarks
{
    public const int OpsPerRegion = InRegionAllReduceWorkload.OpsPerRegion;

    private CpuProvider _provider = null!;
    private InRegionAllReduceWorkload _workload = null!;

    [Params(2, 4, 8)]
    public int Devices { get; set; }

    [Params(4 << 10, 1 << 20, 16 << 20)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new CpuProvider(Devices);
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

    [Benchmark]
    public void SingleController() => _provider.AllReduceShards(_workload.Shards, ReduceOp.Sum, "data");
}
