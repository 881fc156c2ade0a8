using System.Runtime.InteropServices;
using Artifex.Cpu;
using Artifex.Cpu.Kernels;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// The reproducible all-reduce (PR3 v2) against the default rank-ordered one, same run: in an SPMD region on N devices
/// (both cores), and the fused pass alone on one thread. Gradient-like data (random sign, exponents 2^−30..2^8).
/// </summary>
[MemoryDiagnoser]
public unsafe class ReproducibleAllReduceBenchmarks
{
    public const int OpsPerRegion = 16;

    private CpuProvider _provider = null!;
    private Mesh _mesh = null!;
    private GlobalArray<float> _shards = null!;
    private Action<SpmdContext> _body = null!;
    private nint[] _buffers = [];
    private long _count;

    [Params(2, 8)]
    public int Devices { get; set; }

    [Params(64 << 10, 16 << 20)]
    public int Bytes { get; set; }

    [Params(Determinism.RankOrdered, Determinism.Reproducible)]
    public Determinism Mode { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new CpuProvider(Devices);
        _mesh = new Mesh(_provider.Devices, ("data", Devices));
        int count = Bytes / sizeof(float);
        _count = count;
        float[] values = GradientLike(count * Devices);
        _shards = GlobalArray.DevicePut(new HostArray<float>(values, Devices, count), new NamedSharding(_mesh, new PartitionSpec("data")));
        Determinism mode = Mode;
        _body = context =>
        {
            using DeviceArray view = DeviceArray.View<float>(_shards.Shards[context.DeviceIndex].Buffer, count);
            using DeviceArray output = view.AllocateLike(count);
            AxisGroup group = context.GetAxisGroup("data");
            for (int i = 0; i < OpsPerRegion; i++)
            {
                context.AllReduce(view, output, ReduceOp.Sum, group, mode);
            }
        };

        _buffers = new nint[Devices + 1];
        for (int k = 0; k <= Devices; k++)
        {
            _buffers[k] = (nint)NativeMemory.AlignedAlloc((nuint)Bytes, 64);
            values.AsSpan(Math.Min(k, Devices - 1) * count, count).CopyTo(new Span<float>((void*)_buffers[k], count));
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (nint buffer in _buffers)
        {
            NativeMemory.AlignedFree((void*)buffer);
        }

        _shards.Dispose();
        _provider.Dispose();
    }

    [Benchmark(OperationsPerInvoke = OpsPerRegion)]
    public void InRegion() => _provider.RunSpmd(_mesh, _body);

    /// <summary>The fused pass alone on one thread: N inputs, one separate output.</summary>
    [Benchmark]
    public void OneThread()
    {
        ReadOnlySpan<nint> inputs = _buffers.AsSpan(0, Devices);
        ReadOnlySpan<nint> output = _buffers.AsSpan(Devices, 1);
        if (Mode == Determinism.Reproducible)
        {
            ReproducibleKernels.Fused(inputs, 0, output, 0, _count, 1.0);
        }
        else
        {
            CollectiveDispatch.Reduce(typeof(float), ReduceOp.Sum, inputs, 0, output, 0, _count);
        }
    }

    private static float[] GradientLike(int count)
    {
        var values = new float[count];
        ulong state = 0x9E3779B97F4A7C15UL;
        for (int i = 0; i < count; i++)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            uint sign = (uint)(state >> 63) << 31;
            uint exponent = 127 - 30 + (uint)((state >> 40) % 39);
            values[i] = BitConverter.UInt32BitsToSingle(sign | (exponent << 23) | ((uint)state & 0x7FFFFF));
        }

        return values;
    }
}
