using Artifex.Cpu;
using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Artifex.TorchSharp.Benchmarks;

/// <summary>
/// One Adam training step at global batch 256: TorchSharp alone with 1 and 2 intra-op threads, against two emulated
/// devices through <see cref="TorchDataParallel{TModule}"/> (one libtorch thread each, 128 rows each), with and without
/// the gradient all-reduce (the difference is the bridge's own cost: views, bucket packing, the all-reduce).
/// </summary>
[Config(typeof(InProcessConfig))]
public class TorchSharpStepBenchmarks
{
    private const int Batch = 256;
    private Module<Tensor, Tensor>? _model;
    private optim.Optimizer? _optimizer;
    private Tensor? _images;
    private Tensor? _labels;
    private CpuProvider? _provider;
    private TorchDataParallel<Module<Tensor, Tensor>>? _ddp;
    private optim.Optimizer[] _optimizers = [];

    /// <summary>Gets or sets the model: <c>mlp</c> (784-512-10) or <c>cnn</c> (two convolutions and a linear head).</summary>
    [Params("mlp", "cnn")]
    public string Model { get; set; } = "mlp";

    [GlobalSetup]
    public void Setup()
    {
        TorchSharpEnvironment.EnsureAvailable();
        (_images, _labels) = StepModels.Batch(Model, Batch);
        _model = StepModels.Create(Model);
        _optimizer = optim.Adam(_model.parameters());
        _provider = new CpuProvider(deviceCount: 2);
        _ddp = new TorchDataParallel<Module<Tensor, Tensor>>(
            new Mesh(_provider.Devices, ("data", 2)),
            _ => StepModels.Create(Model),
            options: new TorchDataParallelOptions { ThreadsPerReplica = 1 });
        _optimizers = [.. _ddp.Replicas.Select(static m => (optim.Optimizer)optim.Adam(m.parameters()))];
        BridgeTwoDevices(); // every replica has gradients, for the benchmark that only averages them
    }

    [Benchmark(Baseline = true)]
    public void TorchSharpOneThread() => Alone(threads: 1);

    [Benchmark]
    public void TorchSharpTwoThreads() => Alone(threads: 2);

    [Benchmark]
    public void BridgeTwoDevices() => _ddp!.Run(Step);

    [Benchmark]
    public void BridgeTwoDevicesWithoutAllReduce()
    {
        using (_ddp!.NoSync())
        {
            _ddp.Run(Step);
        }
    }

    /// <summary>The bridge's own work alone: a region whose replicas only average the gradients a step left (views, buckets, all-reduce).</summary>
    [Benchmark]
    public void BridgeGradientAverageOnly() => _ddp!.Run(static replica => replica.SynchronizeGradients());

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (optim.Optimizer optimizer in _optimizers)
        {
            optimizer.Dispose();
        }

        _ddp?.Dispose();
        _provider?.Dispose();
        _optimizer?.Dispose();
        _model?.Dispose();
        _images?.Dispose();
        _labels?.Dispose();
    }

    private void Alone(int threads)
    {
        if (get_num_threads() != threads)
        {
            set_num_threads(threads);
        }

        using DisposeScope scope = NewDisposeScope();
        _optimizer!.zero_grad();
        Tensor loss = functional.cross_entropy(_model!.forward(_images!), _labels!);
        loss.backward();
        _optimizer.step();
    }

    private void Step(TorchReplica<Module<Tensor, Tensor>> replica)
    {
        using DisposeScope scope = NewDisposeScope();
        optim.Optimizer optimizer = _optimizers[replica.LocalIndex];
        optimizer.zero_grad();
        Tensor loss = functional.cross_entropy(replica.Module.forward(replica.Shard(_images!)), replica.Shard(_labels!));
        loss.backward();
        replica.SynchronizeGradients();
        optimizer.step();
    }
}
