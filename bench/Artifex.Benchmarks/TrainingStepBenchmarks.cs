using Artifex.Cpu;
using Artifex.Samples.FashionMnist;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// One data-parallel training step of the sample's MLP (784-512-10, Adam), global batch 256, the whole real path: gather
/// the batch, <c>ShardBatch</c>, the SPMD region with forward, backward with the gradient reducer (layer 2's bucket
/// all-reduced during layer 1's backward pass, or with <see cref="Overlap"/> off every bucket after it) and Adam on every device.
/// Synthetic data of Fashion-MNIST's shape, so the figure does not depend on the package being installed.
/// </summary>
[MemoryDiagnoser]
public class TrainingStepBenchmarks
{
    private const int Batch = 256;
    private static readonly Dataset s_data = SyntheticDataset.Create(seed: 1, trainCount: 16 * Batch, testCount: 10);
    private CpuProvider? _provider;
    private MlpTrainer? _trainer;
    private int[] _order = [];
    private int _next;

    [Params(1, 2)]
    public int Devices { get; set; }

    /// <summary>Gets or sets the microbatch of reproducible mode (0: the ordinary step).</summary>
    [Params(0, 32)]
    public int Microbatch { get; set; }

    /// <summary>Gets or sets whether the ordinary step overlaps its gradient all-reduce with the backward pass.</summary>
    [Params(true, false)]
    public bool Overlap { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new CpuProvider(Devices);
        _trainer = new MlpTrainer(_provider, Devices, Batch, 1e-3f, 42, microbatch: Microbatch, overlapGradients: Overlap);
        _order = [.. Enumerable.Range(0, s_data.TrainCount)];
    }

    [Benchmark]
    public double Step()
    {
        int start = _next * Batch;
        _next = (_next + 1) % (s_data.TrainCount / Batch);
        return _trainer!.Step(s_data, _order.AsSpan(start, Batch)).LossSum;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _trainer?.Dispose();
        _provider?.Dispose();
    }
}
