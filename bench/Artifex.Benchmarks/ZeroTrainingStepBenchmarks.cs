using Artifex.Cpu;
using Artifex.Samples.FashionMnist;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// The sample's whole training step (MLP 784-512-10, Adam, global batch 256, synthetic data of Fashion-MNIST's shape) with
/// Adam's state replicated (<c>--zero 0</c>: all-reduce, then Adam on every element on every device) against ZeRO
/// stage 1 (<c>--zero 1</c>: reduce-scatter, Adam on the device's 1/N, all-gather), at N = 2, 4 and 8 devices.
/// </summary>
[MemoryDiagnoser]
public class ZeroTrainingStepBenchmarks
{
    private const int Batch = 256;
    private static readonly Dataset s_data = SyntheticDataset.Create(seed: 1, trainCount: 16 * Batch, testCount: 10);
    private CpuProvider? _provider;
    private MlpTrainer? _trainer;
    private int[] _order = [];
    private int _next;

    [Params(2, 4, 8)]
    public int Devices { get; set; }

    /// <summary>Gets or sets the ZeRO stage: 0 replicated, 1 sharded.</summary>
    [Params(0, 1)]
    public int Zero { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new CpuProvider(Devices);
        _trainer = new MlpTrainer(_provider, Devices, Batch, 1e-3f, 42, zeroStage: Zero);
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
