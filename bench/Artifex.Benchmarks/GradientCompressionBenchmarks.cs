using Artifex.Cpu;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// What Half compression buys a gradient bucket of <see cref="Megabytes"/> MiB of Single gradients on N emulated devices:
/// the float all-reduce (mean), the same elements all-reduced as Half (the compressed wire, half the bytes), and the
/// whole compressed path a <see cref="Distributed.GradientReducer"/> runs (cast with the division, Half all-reduce, cast
/// back). One operation is one bucket; a region runs <see cref="OpsPerRegion"/> of them.
/// </summary>
[MemoryDiagnoser]
public class GradientCompressionBenchmarks
{
    private const int OpsPerRegion = 8;
    private CpuProvider _provider = null!;
    private Mesh _mesh = null!;
    private DeviceArray<float>[] _floats = null!;
    private DeviceArray<Half>[] _halves = null!;
    private Action<SpmdContext> _float = null!;
    private Action<SpmdContext> _half = null!;
    private Action<SpmdContext> _compressed = null!;

    [Params(2, 4)]
    public int Devices { get; set; }

    [Params(16, 64)]
    public int Megabytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new CpuProvider(Devices);
        _mesh = new Mesh(_provider.Devices, ("data", Devices));
        int count = Megabytes * (1 << 20) / sizeof(float);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = ((i % 2001) - 1000) * 1e-4f;
        }

        _floats = [.. _provider.Devices.Select(d => DeviceArray.FromHost(d, new HostArray<float>(values, count)))];
        _halves = [.. _provider.Devices.Select(d => DeviceArray.Allocate<Half>(d, count))];
        _float = context =>
        {
            for (int i = 0; i < OpsPerRegion; i++)
            {
                Collectives.AllReduceInPlace(_floats[context.DeviceIndex], ReduceOp.Mean, "data");
            }
        };
        _half = context =>
        {
            for (int i = 0; i < OpsPerRegion; i++)
            {
                Collectives.AllReduceInPlace(_halves[context.DeviceIndex], ReduceOp.Sum, "data");
            }
        };
        _compressed = context =>
        {
            DeviceBuffer single = _floats[context.DeviceIndex].Buffer;
            DeviceBuffer half = _halves[context.DeviceIndex].Buffer;
            for (int i = 0; i < OpsPerRegion; i++)
            {
                _provider.Kernels.Convert(single, half, Devices);
                Collectives.AllReduceInPlace(_halves[context.DeviceIndex], ReduceOp.Sum, "data");
                _provider.Kernels.Convert(half, single);
            }
        };

        // Small starting values. The Half sum runs in place again and again, so its values soon reach ±Inf: the kernel's
        // time does not depend on the values (checked), and the compressed path divides first, so it stays finite.
        _provider.RunSpmd(_mesh, context => _provider.Kernels.Convert(_floats[context.DeviceIndex].Buffer, _halves[context.DeviceIndex].Buffer, 1e4f));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (DeviceArray array in _floats.Concat<DeviceArray>(_halves))
        {
            array.Dispose();
        }

        _provider.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = OpsPerRegion)]
    public void FloatAllReduce() => _provider.RunSpmd(_mesh, _float);

    [Benchmark(OperationsPerInvoke = OpsPerRegion)]
    public void HalfAllReduce() => _provider.RunSpmd(_mesh, _half);

    [Benchmark(OperationsPerInvoke = OpsPerRegion)]
    public void HalfWithCasts() => _provider.RunSpmd(_mesh, _compressed);
}
