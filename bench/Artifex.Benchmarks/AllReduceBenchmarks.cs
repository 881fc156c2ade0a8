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
    public const int OpsPerRegion = 32;

    private CpuProvider _provider = null!;
    private Mesh _mesh = null!;
    private GlobalArray<float> _shards = null!;
    private Action<SpmdContext> _body = null!;

    [Params(2, 4, 8)]
    public int Devices { get; set; }

    [Params(4 << 10, 1 << 20, 16 << 20)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new CpuProvider(Devices);
        _mesh = new Mesh(_provider.Devices, ("data", Devices));
        int count = Bytes / sizeof(float);
        var host = new HostArray<float>(new float[count * Devices], Devices, count);
        _shards = GlobalArray.DevicePut(host, new NamedSharding(_mesh, new PartitionSpec("data")));
        _body = context =>
        {
            using DeviceArray view = DeviceArray.View<float>(_shards.Shards[context.DeviceIndex].Buffer, count);
            AxisGroup group = context.GetAxisGroup("data");
            for (int i = 0; i < OpsPerRegion; i++)
            {
                context.AllReduce(view, view, ReduceOp.Sum, group);
            }
        };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _shards.Dispose();
        _provider.Dispose();
    }

    [Benchmark(OperationsPerInvoke = OpsPerRegion)]
    public void InRegion() => _provider.RunSpmd(_mesh, _body);

    [Benchmark]
    public void SingleController() => _provider.AllReduceShards(_shards, ReduceOp.Sum, "data");
}
