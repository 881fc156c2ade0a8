using System.Diagnostics;
using System.Globalization;

namespace Artifex.Benchmarks;

/// <summary>
/// <c>-- zero</c>: the two ZeRO benchmarks' operations (<see cref="ZeroTrainingStepBenchmarks"/>,
/// <see cref="ZeroOptimizerBenchmarks"/>), replicated against ZeRO stage 1, interleaved step by step in one process for
/// N = 2, 4, 8: on a machine other work shares, both configurations see the same background, so their ratio holds where
/// the absolute times do not. Three rounds of medians.
/// </summary>
internal static class ZeroComparison
{
    private const int Warmup = 200;
    private const int Steps = 300;
    private const int Rounds = 3;

    public static int Run()
    {
        TextWriter log = Console.Out;
        log.WriteLine($"# {Warmup} warm-up steps of each, then {Rounds} rounds of {Steps} steps, replicated and ZeRO alternating (order swapped every step); medians");
        log.WriteLine("| operation | N | replicated, median µs | ZeRO stage 1, median µs | ZeRO / replicated | per round |");
        log.WriteLine("|---|---|---|---|---|---|");
        foreach (int devices in new[] { 2, 4, 8 })
        {
            Compare(log, "training step", devices, zero =>
            {
                var benchmark = new ZeroTrainingStepBenchmarks { Devices = devices, Zero = zero };
                benchmark.Setup();
                return (() => benchmark.Step(), benchmark.Cleanup);
            });
            Compare(log, "optimizer only", devices, zero =>
            {
                var benchmark = new ZeroOptimizerBenchmarks { Devices = devices, Zero = zero };
                benchmark.Setup();
                return (benchmark.OptimizerStep, benchmark.Cleanup);
            });
        }

        return 0;
    }

    private static void Compare(TextWriter log, string operation, int devices, Func<int, (Action Step, Action Cleanup)> create)
    {
        (Action replicated, Action cleanReplicated) = create(0);
        (Action zero, Action cleanZero) = create(1);
        try
        {
            for (int i = 0; i < Warmup; i++)
            {
                replicated();
                zero();
            }

            var ratios = new double[Rounds];
            var replicatedMedians = new double[Rounds];
            var zeroMedians = new double[Rounds];
            for (int round = 0; round < Rounds; round++)
            {
                var a = new double[Steps];
                var b = new double[Steps];
                for (int i = 0; i < Steps; i++)
                {
                    bool zeroFirst = i % 2 == 1;
                    double first = Time(zeroFirst ? zero : replicated);
                    double second = Time(zeroFirst ? replicated : zero);
                    (a[i], b[i]) = zeroFirst ? (second, first) : (first, second);
                }

                replicatedMedians[round] = Median(a);
                zeroMedians[round] = Median(b);
                ratios[round] = zeroMedians[round] / replicatedMedians[round];
            }

            string perRound = string.Join(" / ", ratios.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)));
            log.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {operation} | {devices} | {Median(replicatedMedians):F0} | {Median(zeroMedians):F0} | {Median(ratios):F2} | {perRound} |"));
        }
        finally
        {
            cleanReplicated();
            cleanZero();
        }
    }

    private static double Time(Action step)
    {
        long start = Stopwatch.GetTimestamp();
        step();
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }

    private static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);
}
