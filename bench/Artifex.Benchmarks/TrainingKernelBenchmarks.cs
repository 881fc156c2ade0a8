using Artifex.Cpu;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>The non-GEMM kernels of a training step at the sample's sizes: Adam over all 407,050 parameters, and a local batch of 128.</summary>
[MemoryDiagnoser]
public class TrainingKernelBenchmarks
{
    private const int Parameters = 407_050;
    private const int Rows = 128;
    private CpuProvider? _provider;
    private DeviceBuffer[] _adam = [];
    private DeviceBuffer? _hidden;
    private DeviceBuffer? _gradHidden;
    private DeviceBuffer? _bias;
    private DeviceBuffer? _logits;
    private DeviceBuffer? _probabilities;
    private DeviceBuffer? _losses;
    private DeviceBuffer? _labels;
    private int _step;

    [GlobalSetup]
    public void Setup()
    {
        _provider = new CpuProvider(1);
        Device device = _provider.Devices[0];
        _adam = [.. Enumerable.Range(0, 4).Select(i => Filled(device, Parameters, 0.01f * (i + 1)))];
        _hidden = Filled(device, Rows * 512, 0.5f);
        _gradHidden = Filled(device, Rows * 512, -0.25f);
        _bias = Filled(device, 512, 0.1f);
        _logits = Filled(device, Rows * 10, 0.3f);
        _probabilities = Filled(device, Rows * 10, 0f);
        _losses = Filled(device, Rows, 0f);
        _labels = _provider.Allocate<int>(device, Rows);
        _provider.CopyFromHost<int>(Enumerable.Range(0, Rows).Select(i => i % 10).ToArray(), _labels);
    }

    [Benchmark]
    public void Adam() => _provider!.Kernels.AdamUpdate(_adam[0], _adam[1], _adam[2], _adam[3], AdamStep.Default(1e-3f, ++_step));

    [Benchmark]
    public void BiasReluForward()
    {
        _provider!.Kernels.AddBias(_hidden!, Rows, 512, _bias!);
        _provider.Kernels.Relu(_hidden!, _hidden!);
    }

    [Benchmark]
    public void ReluBackwardAndBiasGradient()
    {
        _provider!.Kernels.ReluBackward(_gradHidden!, _hidden!, _gradHidden!);
        _provider.Kernels.ColumnSums(_gradHidden!, Rows, 512, _bias!);
    }

    [Benchmark]
    public void SoftmaxCrossEntropyForwardBackward()
    {
        _provider!.Kernels.SoftmaxCrossEntropy(_logits!, _labels!, Rows, 10, _probabilities!, _losses!);
        _provider.Kernels.SoftmaxCrossEntropyBackward(_probabilities!, _labels!, Rows, 10, 1f / Rows, _logits!);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (DeviceBuffer buffer in _adam.Concat([_hidden!, _gradHidden!, _bias!, _logits!, _probabilities!, _losses!, _labels!]))
        {
            buffer.Dispose();
        }

        _provider?.Dispose();
    }

    private DeviceBuffer Filled(Device device, int length, float value)
    {
        DeviceBuffer buffer = _provider!.Allocate<float>(device, length);
        _provider.Kernels.Fill(buffer, value);
        return buffer;
    }
}
