using System.Runtime.InteropServices;
using Artifex.Cpu.Kernels;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// The fused reduce pass alone, on one thread (no rendezvous): reads N inputs in rank order and writes N outputs, in
/// place. GB/s of traffic = 2·N·S / time.
/// </summary>
[MemoryDiagnoser]
public unsafe class CollectiveKernelBenchmarks
{
    private nint[] _buffers = [];
    private long _count;

    [Params(2, 8)]
    public int Inputs { get; set; }

    [Params(64 << 10, 1 << 20)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _count = Bytes / sizeof(float);
        _buffers = new nint[Inputs];
        for (int k = 0; k < Inputs; k++)
        {
            _buffers[k] = (nint)NativeMemory.AlignedAlloc((nuint)Bytes, 64);
            new Span<float>((void*)_buffers[k], (int)_count).Fill(k + 1);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (nint buffer in _buffers)
        {
            NativeMemory.AlignedFree((void*)buffer);
        }
    }

    [Benchmark]
    public void FusedMean() => CollectiveDispatch.Reduce(typeof(float), ReduceOp.Mean, _buffers, 0, _buffers, 0, _count);

    [Benchmark]
    public void FusedMax() => CollectiveDispatch.Reduce(typeof(float), ReduceOp.Max, _buffers, 0, _buffers, 0, _count);
}
