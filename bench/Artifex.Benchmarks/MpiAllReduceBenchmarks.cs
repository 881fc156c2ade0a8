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
    public const int OpsPerRegion = 32;

    private MpiProvider _provider = null!;
    private Mesh _mesh = null!;
    private GlobalArray<float> _shards = null!;
    private Action<SpmdContext> _body = null!;

    [Params(1, 2)]
    public int LocalDevices { get; set; }

    [Params(4, 64 << 10, 16 << 20)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new MpiProvider(LocalDevices);
        int devices = _provider.Devices.Count;
        _mesh = new Mesh(_provider.Devices, ("data", devices));
        int count = Bytes / sizeof(float);
        _shards = GlobalArray.DevicePut(new HostArray<float>(new float[count * devices], devices, count), new NamedSharding(_mesh, new PartitionSpec("data")));
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
}
