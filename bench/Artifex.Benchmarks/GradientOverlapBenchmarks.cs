using Artifex.Cpu;
using Artifex.Distributed;
using Artifex.Testing;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// What overlapping the gradient all-reduce with the backward pass buys: the MLP's backward pass (784-512-10, 128 rows per
/// device) followed by the all-reduce of its gradients (<see cref="DataParallel.AllReduceGradientsInPlace"/>), against
/// the same backward pass with a <see cref="GradientReducer"/> whose first bucket (layer 2) all-reduces while layer 1's
/// products run. With <see cref="LatencyMs"/> &gt; 0 every bucket's all-reduce takes that much longer, as over a slower
/// interconnect (<see cref="LatencyCollectives"/>); with 0 it is the real in-process collective. One operation is one step.
/// </summary>
public class GradientOverlapBenchmarks
{
    private const int Rows = 128;
    private const int Features = 784;
    private const int Hidden = 512;
    private const int Classes = 10;
    private CpuProvider _provider = null!;
    private Mesh _mesh = null!;
    private DeviceWork[] _work = null!;
    private DataParallel _dataParallel = null!;
    private Action<SpmdContext> _blocking = null!;
    private Action<SpmdContext> _overlapped = null!;
    private Action<SpmdContext> _backwardOnly = null!;
    private Action<SpmdContext> _notOverlapped = null!;

    [Params(2, 4)]
    public int Devices { get; set; }

    [Params(0, 1, 4)]
    public int LatencyMs { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _provider = new CpuProvider(Devices);
        _mesh = new Mesh(_provider.Devices, ("data", Devices));
        ICollectives collectives = LatencyMs > 0 ? new LatencyCollectives(TimeSpan.FromMilliseconds(LatencyMs)) : AmbientCollectives.Instance;
        _dataParallel = new DataParallel(collectives);
        _work = [.. _provider.Devices.Select(d => new DeviceWork(d, _dataParallel))];
        _backwardOnly = context => _work[context.DeviceIndex].Backward(reducer: null);
        _blocking = context =>
        {
            DeviceWork work = _work[context.DeviceIndex];
            work.Backward(reducer: null);
            _dataParallel.AllReduceGradientsInPlace(work.Gradients, ReduceOp.Mean, "data");
        };
        _notOverlapped = context =>
        {
            DeviceWork work = _work[context.DeviceIndex];
            work.Backward(reducer: null);
            for (int leaf = 3; leaf >= 0; leaf--)
            {
                work.Reducer.MarkReady(leaf);
            }

            work.Reducer.Finish();
        };
        _overlapped = context =>
        {
            DeviceWork work = _work[context.DeviceIndex];
            work.Backward(work.Reducer);
            work.Reducer.Finish();
        };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (DeviceWork work in _work)
        {
            work.Dispose();
        }

        _provider.Dispose();
    }

    /// <summary>The backward pass alone: the compute a step cannot avoid.</summary>
    [Benchmark]
    public void BackwardOnly() => _provider.RunSpmd(_mesh, _backwardOnly);

    /// <summary>DataParallel's in-place bucketed all-reduce after the backward pass (its own buckets: three for the MLP).</summary>
    [Benchmark]
    public void BackwardThenAllReduce() => _provider.RunSpmd(_mesh, _blocking);

    /// <summary>The reducer's two buckets, all marked ready after the backward pass: the same collectives, no overlap.</summary>
    [Benchmark(Baseline = true)]
    public void BackwardThenReducer() => _provider.RunSpmd(_mesh, _notOverlapped);

    [Benchmark]
    public void Overlapped() => _provider.RunSpmd(_mesh, _overlapped);

    /// <summary>One device's activations and gradients, and its reducer over the same gradient arrays.</summary>
    private sealed class DeviceWork : IDisposable
    {
        private readonly DeviceProvider _provider;
        private readonly DeviceBuffer _x;
        private readonly DeviceBuffer _hidden;
        private readonly DeviceBuffer _gradLogits;
        private readonly DeviceBuffer _gradHidden;
        private readonly DeviceBuffer _kernel2;
        private readonly DeviceArray[] _gradients;

        public DeviceWork(Device device, DataParallel dataParallel)
        {
            _provider = device.Provider!;
            _x = Filled(device, Rows * Features);
            _hidden = Filled(device, Rows * Hidden);
            _gradLogits = Filled(device, Rows * Classes);
            _gradHidden = Filled(device, Rows * Hidden);
            _kernel2 = Filled(device, Hidden * Classes);
            _gradients =
            [
                DeviceArray.Allocate<float>(device, Hidden),
                DeviceArray.Allocate<float>(device, Features, Hidden),
                DeviceArray.Allocate<float>(device, Classes),
                DeviceArray.Allocate<float>(device, Hidden, Classes),
            ];
            Gradients = Tree.Dict<DeviceArray>(
                ("dense1", Tree.Dict<DeviceArray>(("bias", _gradients[0]), ("kernel", _gradients[1]))),
                ("dense2", Tree.Dict<DeviceArray>(("bias", _gradients[2]), ("kernel", _gradients[3]))));
            Reducer = dataParallel.CreateGradientReducer(Gradients, "data");
        }

        public Tree<DeviceArray> Gradients { get; }

        public GradientReducer Reducer { get; }

        /// <summary>The MLP's backward products, marking each layer's gradients ready when a reducer is given.</summary>
        public void Backward(GradientReducer? reducer)
        {
            DeviceKernels k = _provider.Kernels;
            k.Gemm(MatrixOperation.Transpose, MatrixOperation.None, Hidden, Classes, Rows, 1f, _hidden, _gradLogits, 0f, _gradients[3].Buffer);
            reducer?.MarkReady(3);
            k.ColumnSums(_gradLogits, Rows, Classes, _gradients[2].Buffer);
            reducer?.MarkReady(2);
            k.Gemm(MatrixOperation.None, MatrixOperation.Transpose, Rows, Hidden, Classes, 1f, _gradLogits, _kernel2, 0f, _gradHidden);
            k.Gemm(MatrixOperation.Transpose, MatrixOperation.None, Features, Hidden, Rows, 1f, _x, _gradHidden, 0f, _gradients[1].Buffer);
            reducer?.MarkReady(1);
            k.ColumnSums(_gradHidden, Rows, Hidden, _gradients[0].Buffer);
            reducer?.MarkReady(0);
        }

        public void Dispose()
        {
            Reducer.Dispose();
            foreach (DeviceArray gradient in _gradients)
            {
                gradient.Dispose();
            }

            foreach (DeviceBuffer buffer in new[] { _x, _hidden, _gradLogits, _gradHidden, _kernel2 })
            {
                buffer.Dispose();
            }
        }

        private DeviceBuffer Filled(Device device, int length)
        {
            DeviceBuffer buffer = _provider.Allocate<float>(device, length);
            _provider.Kernels.Fill(buffer, 0.01f);
            return buffer;
        }
    }
}
