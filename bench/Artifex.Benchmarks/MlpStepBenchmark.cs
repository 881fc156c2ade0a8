using Artifex.Cpu;
using Artifex.Samples.FashionMnist;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// One data-parallel training step of the sample's MLP (784-512-10, Adam), global batch 256, the whole real path: gather
/// the batch, <c>ShardBatch</c>, the SPMD region with forward, backward, the gradients' reduction and Adam on every
/// device. Synthetic data of Fashion-MNIST's shape, so the figure does not depend on the package being installed. A
/// subclass picks the devices and the trainer's options.
/// </summary>
[MemoryDiagnoser]
public abstract class MlpStepBenchmark
{
    private const int Batch = 256;
    private static readonly Dataset s_data = SyntheticDataset.Create(seed: 1, trainCount: 16 * Batch, testCount: 10);
    private CpuProvider? _provider;
    private MlpTrainer? _trainer;
    private int[] _order = [];
    private int _next;

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

    /// <summary>Creates the provider and the trainer the subclass describes.</summary>
    /// <param name="devices">The CPU devices.</param>
    /// <param name="create">Makes the trainer: provider, devices, global batch.</param>
    protected void Start(int devices, Func<CpuProvider, int, int, MlpTrainer> create)
    {
        _provider = new CpuProvider(devices);
        _trainer = create(_provider, devices, Batch);
        _order = [.. Enumerable.Range(0, s_data.TrainCount)];
    }
}
