using Artifex.Cpu;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// Float all-reduce (sum, in place) on N emulated devices: inside a running SPMD region (the training-loop path)
/// and host-issued on a global array's shards. Time is per collective; the memory diagnoser shows that neither
/// path allocates per call (the in-region figure includes one region launch shared by <see cref="InRegionAllReduceBenchmark.OpsPerRegion"/> calls).
/// </summary>
public class AllReduceBenchmarks : InRegionAllReduceBenchmark
{
    [Params(2, 4, 8)]
    public int Devices { get; set; }

    [Params(4 << 10, 1 << 20, 16 << 20)]
    public int Bytes { get; set; }

    protected override int WorkloadBytes => Bytes;

    [Benchmark]
    public void SingleController() => ProviderInstance.AllReduceShards(Workload.Shards, ReduceOp.Sum, "data");

    protected override DeviceProvider CreateProvider() => new CpuProvider(Devices);
}
