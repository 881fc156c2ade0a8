using System.Diagnostics;
using System.Globalization;
using Artifex.Cpu;
using Artifex.Cpu.Kernels;

namespace Artifex.Benchmarks;

/// <summary>
/// <c>-- gemm</c>: our single-thread SGEMM beside OpenBLAS in one process run, timed the way the peer times itself (median
/// of 7 samples, each ~0.1 s of back-to-back calls). OpenBLAS runs before and after ours; its better run counts.
/// </summary>
internal static class GemmSweep
{
    public static int Run()
    {
        TextWriter log = Console.Out;
        log.WriteLine($"# {OpenBlasPeer.Peak(log)}");
        var before = OpenBlasPeer.Run(coreType: null, log);
        var haswellBefore = OpenBlasPeer.Run(coreType: "Haswell", log);

        using var provider = new CpuProvider(1);
        var kernels = (CpuKernels)provider.Kernels;
        GemmKernelKind[] kinds = [.. new[] { GemmKernelKind.Vector512, GemmKernelKind.Vector256 }.Where(Accelerated)];
        var ours = new Dictionary<(string, GemmKernelKind), double>();
        foreach (var shape in GemmShapes.All)
        {
            foreach (GemmKernelKind kind in kinds)
            {
                kernels.GemmKernel = kind;
                ours[(shape.Name, kind)] = Measure(provider, shape);
            }
        }

        var after = OpenBlasPeer.Run(coreType: null, log);
        var haswellAfter = OpenBlasPeer.Run(coreType: "Haswell", log);
        log.WriteLine($"# OpenBLAS core (auto): {before.Core}; forced: Haswell. Single thread. GFLOP/s, median of 7.");
        log.WriteLine("| shape | OpenBLAS auto | OpenBLAS Haswell (AVX2) | ours Vector512 | ours Vector256 | ours best / OpenBLAS auto | ours Vector256 / OpenBLAS Haswell |");
        log.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var shape in GemmShapes.All)
        {
            double blas = Best(before.Gflops, after.Gflops, shape.Name);
            double blasAvx2 = Best(haswellBefore.Gflops, haswellAfter.Gflops, shape.Name);
            double v512 = ours.GetValueOrDefault((shape.Name, GemmKernelKind.Vector512), double.NaN);
            double v256 = ours.GetValueOrDefault((shape.Name, GemmKernelKind.Vector256), double.NaN);
            double best = double.IsNaN(v512) ? v256 : Math.Max(v512, v256);
            log.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {shape.Name} | {blas:F1} | {blasAvx2:F1} | {v512:F1} | {v256:F1} | {best / blas:F2} | {v256 / blasAvx2:F2} |"));
        }

        return 0;
    }

    private static bool Accelerated(GemmKernelKind kind) => kind switch
    {
        GemmKernelKind.Vector512 => System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated,
        GemmKernelKind.Vector256 => System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated,
        _ => true,
    };

    private static double Best(Dictionary<string, double> first, Dictionary<string, double> second, string name) =>
        Math.Max(first.GetValueOrDefault(name, double.NaN), second.GetValueOrDefault(name, double.NaN));

    private static double Measure(CpuProvider provider, (string Name, int M, int N, int K, MatrixOperation TransA, MatrixOperation TransB) shape)
    {
        Device device = provider.Devices[0];
        using DeviceBuffer a = provider.Allocate<float>(device, (long)shape.M * shape.K);
        using DeviceBuffer b = provider.Allocate<float>(device, (long)shape.K * shape.N);
        using DeviceBuffer c = provider.Allocate<float>(device, (long)shape.M * shape.N);
        provider.Kernels.Fill(a, 0.25f);
        provider.Kernels.Fill(b, -0.5f);
        void Call() => provider.Kernels.Gemm(shape.TransA, shape.TransB, shape.M, shape.N, shape.K, 1f, a, b, 0f, c);

        var clock = Stopwatch.StartNew();
        int calibration = 0;
        while (clock.Elapsed.TotalSeconds < 0.2)
        {
            Call();
            calibration++;
        }

        int calls = Math.Max(1, (int)(0.1 / (clock.Elapsed.TotalSeconds / calibration)));
        var samples = new double[7];
        for (int s = 0; s < samples.Length; s++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++)
            {
                Call();
            }

            samples[s] = Stopwatch.GetElapsedTime(start).TotalSeconds / calls;
        }

        Array.Sort(samples);
        return 2.0 * shape.M * shape.N * shape.K / samples[3] / 1e9;
    }
}
