using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Artifex.Cpu;

namespace Artifex.Benchmarks;

/// <summary>
/// nccl-tests-style sweep of the float all-reduce (sum, in place) on N emulated devices, side by side, in one run,
/// with the memory-traffic bound over the same working set and the native OpenMP peer. Prints a markdown table.
/// Usage: <c>dotnet run -c Release --project bench/Artifex.Benchmarks -- sweep [--quick]</c>.
/// </summary>
internal static class CollectiveSweep
{
    private const int Samples = 7;

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick", StringComparer.Ordinal);
        double sampleSeconds = quick ? 0.005 : 0.03;
        int rounds = Option(args, "--rounds") is { } r ? int.Parse(r, CultureInfo.InvariantCulture) : quick ? 1 : 3;
        int[] deviceCounts = Option(args, "--devices") is { } d ? [.. d.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))] : [2, 4, 8];
        long[] sizes = Option(args, "--bytes") is { } b ? [.. b.Split(',').Select(v => long.Parse(v, CultureInfo.InvariantCulture))]
            : quick ? [4 << 10, 1 << 20] : [4 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20];
        bool withNative = !quick && !args.Contains("--no-native", StringComparer.Ordinal);
        TextWriter log = Console.Error;

        // This host's DRAM bandwidth changes by up to 2x within tens of seconds, and with where fresh memory lands
        // (docs/PERFORMANCE.md, opening; reproduced for the native peer alone). So the peer and we alternate, round by round, each round
        // on freshly allocated buffers on both sides. Each side's best round is reported, and so is the median over our
        // rounds of the ratio to the peer's runs just before and just after that round (robust to the drift).
        var native = new List<Dictionary<(int N, long Bytes), double>>();
        var ours = new List<Dictionary<(int N, long Bytes), Row>>();
        long wrong = 0;
        for (int round = 0; round < rounds; round++)
        {
            if (withNative)
            {
                native.Add(RunNative(log, round));
            }

            var mine = new Dictionary<(int N, long Bytes), Row>();
            foreach (int n in deviceCounts)
            {
                foreach (long bytes in sizes)
                {
                    (Row row, long roundWrong) = Measure(n, bytes, sampleSeconds);
                    wrong += roundWrong;
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# round {round}: N={n} S={bytes}: in-region {row.InRegion:0.00} us, single-controller {row.SingleController:0.00} us, probe {row.Probe:0.00} us"));
                    mine[(n, bytes)] = row;
                }
            }

            ours.Add(mine);
        }

        if (withNative)
        {
            native.Add(RunNative(log, rounds));
        }

        PrintTable(deviceCounts, sizes, ours, native, sampleSeconds, wrong);
        return wrong == 0 ? 0 : 1;
    }

    private static Dictionary<(int N, long Bytes), double> RunNative(TextWriter log, int round)
    {
        Dictionary<(int N, long Bytes), double> run = NativeAllReducePeer.Run(log);
        foreach ((var key, double micros) in run)
        {
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# round {round}: native N={key.N} S={key.Bytes}: {micros:0.00} us"));
        }

        return run;
    }

    private static void PrintTable(int[] deviceCounts, long[] sizes, List<Dictionary<(int N, long Bytes), Row>> ours, List<Dictionary<(int N, long Bytes), double>> native, double sampleSeconds, long wrong)
    {
        Console.WriteLine($"# float all-reduce (sum, in place), {Environment.ProcessorCount} cores, {ours.Count} rounds (fresh buffers each, alternating with the native peer) of the median of {Samples} samples of ~{sampleSeconds * 1e3:0} ms; best round shown; GB = 1e9 B; #wrong = {wrong}");
        Console.WriteLine();
        Console.WriteLine("| N | S | in-region µs | algbw GB/s | busbw GB/s | single-controller µs | bound µs (RMW probe, same working set) | in-region % of bound | single-ctl % of bound | native OpenMP µs | native algbw / ours (best rounds) | native / ours, median of paired rounds |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (int n in deviceCounts)
        {
            foreach (long bytes in sizes)
            {
                var key = (n, bytes);
                Row row = ours.Select(r => r[key]).Aggregate(Row.Best);
                double[] nativeRuns = [.. native.Where(r => r.ContainsKey(key)).Select(r => r[key])];
                double nativeMicros = nativeRuns.Length > 0 ? nativeRuns.Min() : 0;
                double paired = nativeRuns.Length == ours.Count + 1
                    ? Median([.. Enumerable.Range(0, ours.Count).Select(r => (nativeRuns[r] + nativeRuns[r + 1]) / 2 / ours[r][key].InRegion)])
                    : 0;
                double algbw = bytes / (row.InRegion * 1e-6) / 1e9;
                double busbw = algbw * 2 * (n - 1) / n;
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {n} | {Size(bytes)} | {row.InRegion:0.00} | {algbw:0.00} | {busbw:0.00} | {row.SingleController:0.00} | {row.Probe:0.00} | {100 * row.Probe / row.InRegion:0}% | {100 * row.Probe / row.SingleController:0}% | {Cell(nativeMicros)} | {Cell(nativeMicros / row.InRegion)} | {Cell(paired)} |"));
            }
        }
    }

    private static string Cell(double value) => value > 0 ? value.ToString("0.00", CultureInfo.InvariantCulture) : "–";

    private static double Median(double[] values)
    {
        Array.Sort(values);
        return values.Length % 2 == 1 ? values[values.Length / 2] : (values[(values.Length / 2) - 1] + values[values.Length / 2]) / 2;
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static unsafe (Row Row, long Wrong) Measure(int n, long bytes, double sampleSeconds)
    {
        using var provider = new CpuProvider(n);
        var mesh = new Mesh(provider.Devices, ("data", n));
        long count = bytes / sizeof(float);
        using GlobalArray<float> array = GlobalArray.DevicePut(
            new HostArray<float>(new float[count * n], n, count),
            new NamedSharding(mesh, new PartitionSpec("data")));
        long wrong = Verify(provider, array, count);

        // The native peer times its passes on zeroed buffers (it memsets them after its check); zero data runs measurably
        // faster at DRAM sizes on this host, so we time on the same values.
        for (int k = 0; k < n; k++)
        {
            NativeMemory.Clear((void*)PointerOf(array.Shards[k].Buffer), (nuint)bytes);
        }

        // Fresh memory on this VM runs several times slower until the host has backed every page; warm it up first.
        long warmUntil = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 2);
        while (Stopwatch.GetTimestamp() < warmUntil)
        {
            provider.AllReduceShards(array, ReduceOp.Sum, "data");
        }

        double inRegion = MeasureInRegion(provider, mesh, array, count, sampleSeconds);
        double single = Median(() => provider.AllReduceShards(array, ReduceOp.Sum, "data"), sampleSeconds);
        double bound = MeasureProbe(array, count, sampleSeconds);

        return (new Row(inRegion, single, bound), wrong);
    }

    /// <summary>One all-reduce on the native peer's pattern (shard k holds (k+1)·(i mod 17 + 1)), checked element by element.</summary>
    private static unsafe long Verify(CpuProvider provider, GlobalArray<float> array, long count)
    {
        int n = array.Shards.Length;
        for (int k = 0; k < n; k++)
        {
            float* p = (float*)PointerOf(array.Shards[k].Buffer);
            for (long i = 0; i < count; i++)
            {
                p[i] = (k + 1) * (float)((i % 17) + 1);
            }
        }

        provider.AllReduceShards(array, ReduceOp.Sum, "data");
        float total = n * (n + 1) / 2;
        long wrong = 0;
        for (int k = 0; k < n; k++)
        {
            float* p = (float*)PointerOf(array.Shards[k].Buffer);
            for (long i = 0; i < count; i++)
            {
                wrong += p[i] == total * (float)((i % 17) + 1) ? 0 : 1;
            }
        }

        return wrong;
    }

    /// <summary>The probe's helper spins while it lives, so it exists only while the probe is measured.</summary>
    private static unsafe double MeasureProbe(GlobalArray<float> array, long count, double sampleSeconds)
    {
        using var probe = new TwoThreadProbe();
        var pointers = new float*[array.Shards.Length];
        for (int k = 0; k < pointers.Length; k++)
        {
            pointers[k] = (float*)PointerOf(array.Shards[k].Buffer);
        }

        probe.Prepare(pointers, count);
        return Median(probe.Pass, sampleSeconds);
    }

    private static double MeasureInRegion(CpuProvider provider, Mesh mesh, GlobalArray<float> array, long count, double sampleSeconds)
    {
        double estimate = 0;
        int iterations = 1;
        var samples = new double[Samples];
        for (int phase = 0; phase < 2; phase++)
        {
            provider.RunSpmd(mesh, context =>
            {
                using DeviceArray view = DeviceArray.View<float>(array.Shards[context.DeviceIndex].Buffer, count);
                AxisGroup group = context.GetAxisGroup("data");
                for (int i = 0; i < 3; i++)
                {
                    context.AllReduce(view, view, ReduceOp.Sum, group);
                }

                int rounds = phase == 0 ? 1 : Samples;
                int perRound = phase == 0 ? 5 : iterations;
                for (int s = 0; s < rounds; s++)
                {
                    context.Barrier(group);
                    long start = Stopwatch.GetTimestamp();
                    for (int i = 0; i < perRound; i++)
                    {
                        context.AllReduce(view, view, ReduceOp.Sum, group);
                    }

                    if (context.DeviceIndex == 0)
                    {
                        double micros = Stopwatch.GetElapsedTime(start).TotalMicroseconds / perRound;
                        if (phase == 0)
                        {
                            estimate = micros;
                        }
                        else
                        {
                            samples[s] = micros;
                        }
                    }
                }
            });
            iterations = (int)Math.Clamp(sampleSeconds * 1e6 / Math.Max(estimate, 0.01), 1, 1_000_000);
        }

        Array.Sort(samples);
        return samples[Samples / 2];
    }

    private static double Median(Action operation, double sampleSeconds)
    {
        for (int i = 0; i < 3; i++)
        {
            operation();
        }

        long start = Stopwatch.GetTimestamp();
        operation();
        double estimate = Math.Max(Stopwatch.GetElapsedTime(start).TotalMicroseconds, 0.01);
        int iterations = (int)Math.Clamp(sampleSeconds * 1e6 / estimate, 1, 1_000_000);
        var samples = new double[Samples];
        for (int s = 0; s < Samples; s++)
        {
            start = Stopwatch.GetTimestamp();
            for (int i = 0; i < iterations; i++)
            {
                operation();
            }

            samples[s] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / iterations;
        }

        Array.Sort(samples);
        return samples[Samples / 2];
    }

    private static unsafe nint PointerOf(DeviceBuffer buffer)
    {
        // The probe must touch exactly the collective's memory; the CPU buffer exposes its pointer internally.
        return (nint)((Artifex.Cpu.CpuBuffer)buffer).Address;
    }

    private static string Size(long bytes) => bytes >= 1 << 20 ? $"{bytes >> 20} MiB" : $"{bytes >> 10} KiB";

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Auto)]
    private readonly record struct Row(double InRegion, double SingleController, double Probe)
    {
        public static Row Best(Row a, Row b) => new(Math.Min(a.InRegion, b.InRegion), Math.Min(a.SingleController, b.SingleController), Math.Min(a.Probe, b.Probe));
    }
}
