using Artifex.Cpu;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// Placing a batch on N emulated devices and gathering it back (JAX <c>device_put</c> and <c>np.asarray</c>):
/// the host↔device path every training step takes. A 256×784 float batch is one Fashion-MNIST step.
/// </summary>
[MemoryDiagnoser]
public class PlacementBenchmarks
{
    private CpuProvider _provider = null!;
    private HostArray<float> _batch = null!;
    private NamedSharding _sharded = null!;
    private NamedSharding _replicated = null!;
    private GlobalArray<float> _placed = null!;

    [Params(1, 4, 8)]
    public int Devices { get; set; }

    [Params(256)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new CpuProvider(Devices);
        var mesh = new Mesh(_provider.Devices, ("data", Devices));
        _sharded = new NamedSharding(mesh, new PartitionSpec("data"));
        _replicated = new NamedSharding(mesh, PartitionSpec.Replicated);
        _batch = new HostArray<float>(new float[Rows * 784], Rows, 784);
        _placed = GlobalArray.DevicePut(_batch, _sharded);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _placed.Dispose();
        _provider.Dispose();
    }

    [Benchmark]
    public void DevicePutSharded()
    {
        using GlobalArray<float> array = GlobalArray.DevicePut(_batch, _sharded);
    }

    [Benchmark]
    public void DevicePutReplicated()
    {
        using GlobalArray<float> array = GlobalArray.DevicePut(_batch, _replicated);
    }

    [Benchmark]
    public float[] GatherToHost() => _placed.ToArray();
}
