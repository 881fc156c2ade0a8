using Artifex.Cpu;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// Single-thread SGEMM through the public kernel contract (<c>provider.Kernels.Gemm</c> on device buffers), the shapes of
/// the kernel issue. GFLOP/s = 2·M·N·K / mean time; the OpenBLAS ratio comes from <c>-- gemm</c>, which runs both in one process.
/// </summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private CpuProvider? _provider;
    private DeviceBuffer? _a;
    private DeviceBuffer? _b;
    private DeviceBuffer? _c;
    private (string Name, int M, int N, int K, MatrixOperation TransA, MatrixOperation TransB) _shape;

    [Params("256^3", "512^3", "1024^3", "fwd 256x784*784x512", "dW (256x784)^T*256x512")]
    public string Shape { get; set; } = "256^3";

    [GlobalSetup]
    public void Setup()
    {
        _shape = GemmShapes.All.Single(s => string.Equals(s.Name, Shape, StringComparison.Ordinal));
        _provider = new CpuProvider(1);
        Device device = _provider.Devices[0];
        _a = Filled(device, (long)_shape.M * _shape.K, 0.25f);
        _b = Filled(device, (long)_shape.K * _shape.N, -0.5f);
        _c = _provider.Allocate<float>(device, (long)_shape.M * _shape.N);
    }

    [Benchmark]
    public void Sgemm() =>
        _provider!.Kernels.Gemm(_shape.TransA, _shape.TransB, _shape.M, _shape.N, _shape.K, 1f, _a!, _b!, 0f, _c!);

    [GlobalCleanup]
    public void Cleanup()
    {
        _a?.Dispose();
        _b?.Dispose();
        _c?.Dispose();
        _provider?.Dispose();
    }

    private DeviceBuffer Filled(Device device, long length, float value)
    {
        DeviceBuffer buffer = _provider!.Allocate<float>(device, length);
        _provider.Kernels.Fill(buffer, value);
        return buffer;
    }
}
