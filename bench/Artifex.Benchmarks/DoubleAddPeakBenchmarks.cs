using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;

namespace Artifex.Benchmarks;

/// <summary>
/// The floating-point add throughput of one core: twelve independent chains of Vector512 Double adds, so latency is
/// hidden and only the add pipes limit the rate (without Vector512 hardware, each is two Vector256 adds). The reproducible sum is
/// bound by these adds; its arithmetic floor is (adds it needs) × (time per add measured here), and docs/PERFORMANCE.md
/// states the fraction of that floor the fused pass reaches.
/// </summary>
public class DoubleAddPeakBenchmarks
{
    /// <summary>Vector adds per invocation: 12 chains × 2^15 iterations.</summary>
    public const int Adds = 12 * Iterations;

    private const int Iterations = 1 << 15;

    private readonly double _step = 1e-300;

    /// <summary>One Vector512 add (of 8 doubles) per operation.</summary>
    /// <returns>A value that depends on every add.</returns>
    [Benchmark(OperationsPerInvoke = Adds)]
    public double VectorAdd() => Add512(_step);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static double Add512(double step)
    {
        Vector512<double> d = Vector512.Create(step);
        Vector512<double> a0 = d, a1 = d, a2 = d, a3 = d, a4 = d, a5 = d, a6 = d, a7 = d, a8 = d, a9 = d, a10 = d, a11 = d;
        for (int i = 0; i < Iterations; i++)
        {
            a0 += d;
            a1 += d;
            a2 += d;
            a3 += d;
            a4 += d;
            a5 += d;
            a6 += d;
            a7 += d;
            a8 += d;
            a9 += d;
            a10 += d;
            a11 += d;
        }

        return Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)));
    }
}
