using Artifex.Samples.FashionMnist;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// The sample's training step (<see cref="MlpStepBenchmark"/>) on 1 and 2 devices: the ordinary step, with the gradient
/// reducer (layer 2's bucket all-reduced during layer 1's backward pass, or with <see cref="Overlap"/> off every bucket
/// after it), against reproducible mode (<see cref="Microbatch"/> 32).
/// </summary>
public class TrainingStepBenchmarks : MlpStepBenchmark
{
    [Params(1, 2)]
    public int Devices { get; set; }

    /// <summary>Gets or sets the microbatch of reproducible mode (0: the ordinary step).</summary>
    [Params(0, 32)]
    public int Microbatch { get; set; }

    /// <summary>Gets or sets whether the ordinary step overlaps its gradient all-reduce with the backward pass.</summary>
    [Params(true, false)]
    public bool Overlap { get; set; }

    [GlobalSetup]
    public void Setup() => Start(Devices, (provider, devices, batch) =>
        new MlpTrainer(provider, devices, batch, 1e-3f, 42, microbatch: Microbatch, overlapGradients: Overlap));
}
