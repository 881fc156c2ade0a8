using Artifex.Samples.FashionMnist;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// The sample's whole training step (<see cref="MlpStepBenchmark"/>) with Adam's state replicated (<c>--zero 0</c>:
/// all-reduce, then Adam on every element on every device) against ZeRO stage 1 (<c>--zero 1</c>: reduce-scatter, Adam on
/// the device's 1/N, all-gather), at N = 2, 4 and 8 devices.
/// </summary>
public class ZeroTrainingStepBenchmarks : MlpStepBenchmark
{
    [Params(2, 4, 8)]
    public int Devices { get; set; }

    /// <summary>Gets or sets the ZeRO stage: 0 replicated, 1 sharded.</summary>
    [Params(0, 1)]
    public int Zero { get; set; }

    [GlobalSetup]
    public void Setup() => Start(Devices, (provider, devices, batch) => new MlpTrainer(provider, devices, batch, 1e-3f, 42, zeroStage: Zero));
}
