using Artifex.Cpu;
using Artifex.Distributed;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// Only the part of the step that ZeRO stage 1 changes, on the MLP's parameter shapes (784·512 + 512 + 512·10 + 10 =
/// 407,050 floats): one region in which every device turns its gradients into updated parameters, either replicated
/// (<see cref="DataParallel.AllReduceGradients(Tree{DeviceArray}, ReduceOp, string)"/>, then Adam on every leaf) or
/// sharded (<see cref="ShardedAdam.Step"/>: reduce-scatter, Adam on 1/N, all-gather).
/// </summary>
[MemoryDiagnoser]
public class ZeroOptimizerBenchmarks
{
    private const string Axis = "data";
    private static readonly long[][] s_shapes = [[512], [784, 512], [10], [512, 10]];
    private CpuProvider _provider = null!;
    private Mesh _mesh = null!;
    private Tree<DeviceArray>[] _parameters = null!;
    private Tree<DeviceArray>[] _gradients = null!;
    private Tree<DeviceArray>[] _firstMoments = null!;
    private Tree<DeviceArray>[] _secondMoments = null!;
    private ShardedAdam[] _sharded = [];
    private Action<SpmdContext> _body = null!;
    private int _step;

    [Params(2, 4, 8)]
    public int Devices { get; set; }

    /// <summary>Gets or sets the ZeRO stage: 0 replicated, 1 sharded.</summary>
    [Params(0, 1)]
    public int Zero { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new CpuProvider(Devices);
        _mesh = new Mesh(_provider.Devices, (Axis, Devices));
        _parameters = [.. _provider.Devices.Select(d => Filled(d, static (_, i) => ((i % 201) - 100) * 1e-3f))];
        _gradients = [.. _provider.Devices.Select((d, r) => Filled(d, (_, i) => (((i * 7) + r) % 101 - 50) * 1e-2f))];
        _firstMoments = [.. _provider.Devices.Select(d => Filled(d, static (_, _) => 0f))];
        _secondMoments = [.. _provider.Devices.Select(d => Filled(d, static (_, _) => 0f))];
        var dataParallel = new DataParallel();
        if (Zero == 1)
        {
            _sharded = [.. _parameters.Select((p, r) => dataParallel.CreateShardedAdam(p, r, Devices))];
            _body = context => _sharded[context.DeviceIndex].Step(_gradients[context.DeviceIndex], AdamStep.Default(1e-3f, _step), Axis);
        }
        else
        {
            _body = context => Replicated(dataParallel, context.DeviceIndex);
        }
    }

    [Benchmark]
    public void OptimizerStep()
    {
        _step++;
        _provider.RunSpmd(_mesh, _body);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (ShardedAdam optimizer in _sharded)
        {
            optimizer.Dispose();
        }

        foreach (Tree<DeviceArray> tree in _parameters.Concat(_gradients).Concat(_firstMoments).Concat(_secondMoments))
        {
            tree.DisposeLeaves();
        }

        _provider.Dispose();
    }

    /// <summary>What the sample's replicated step does after the backward pass.</summary>
    private void Replicated(DataParallel dataParallel, int rank)
    {
        Tree<DeviceArray> mean = dataParallel.AllReduceGradients(_gradients[rank], ReduceOp.Mean, Axis);
        var p = _parameters[rank].Leaves();
        var g = mean.Leaves();
        var m = _firstMoments[rank].Leaves();
        var v = _secondMoments[rank].Leaves();
        for (int leaf = 0; leaf < p.Length; leaf++)
        {
            _provider.Kernels.AdamUpdate(p[leaf].Buffer, g[leaf].Buffer, m[leaf].Buffer, v[leaf].Buffer, AdamStep.Default(1e-3f, _step));
        }

        mean.DisposeLeaves();
    }

    private static Tree<DeviceArray> Filled(Device device, Func<int, int, float> value) =>
        Tree.List<DeviceArray>(s_shapes.Select((shape, leaf) =>
        {
            int length = checked((int)shape.Aggregate(1L, static (a, b) => a * b));
            return Tree.Leaf<DeviceArray>(DeviceArray.FromHost(device, new HostArray<float>([.. Enumerable.Range(0, length).Select(i => value(leaf, i))], shape)));
        }));
}
