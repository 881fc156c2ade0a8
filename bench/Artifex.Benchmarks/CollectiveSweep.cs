using System.Diagnostics;
using System.Globalization;
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
        int[] deviceCounts = Option(args, "--devices") is { } d ? [.. d.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))] : [2, 4, 8];
        long[] sizes = Option(args, "--bytes") is { } b ? [.. b.Split(',').Select(v => long.Parse(v, CultureInfo.InvariantCulture))]
            : quick ? [4 << 10, 1 << 20] : [4 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20];
        bool withNative = !quick && Option(args, "--no-native") is null && !args.Contains("--no-native", StringComparer.Ordinal);
        TextWriter log = Console.Error;
        Dictionary<(int N, long Bytes), double> native = withNative ? NativeAllReducePeer.Run(log) : [];
        var rows = new List<(int N, long Bytes, Row Row)>();
        foreach (int n in deviceCounts)
        {
            foreach (long bytes in sizes)
            {
                rows.Add((n, bytes, Measure(n, bytes, sampleSeconds)));
            }
        }

        // The host's memory bandwidth drifts over seconds: run the native peer again after ours and keep its best time,
        // as ours is the best of three interleaved rounds.
        if (withNative)
        {
            foreach ((var key, double micros) in NativeAllReducePeer.Run(log))
            {
                native[key] = native.TryGetValue(key, out double first) ? Math.Min(first, micros) : micros;
            }
        }

        Console.WriteLine($"# float all-reduce (sum, in place), {Environment.ProcessorCount} cores, best of 3 interleaved rounds of the median of {Samples} samples of ~{sampleSeconds * 1e3:0} ms; GB = 1e9 B");
        Console.WriteLine();
        Console.WriteLine("| N | S | in-region µs | algbw GB/s | busbw GB/s | single-controller µs | bound µs (RMW probe, same working set) | in-region % of bound | single-ctl % of bound | native OpenMP µs | native algbw / ours |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach ((int n, long bytes, Row row) in rows)
        {
            native.TryGetValue((n, bytes), out double nativeMicros);
            double algbw = bytes / (row.InRegion * 1e-6) / 1e9;
            double busbw = algbw * 2 * (n - 1) / n;
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {n} | {Size(bytes)} | {row.InRegion:0.00} | {algbw:0.00} | {busbw:0.00} | {row.SingleController:0.00} | {row.Probe:0.00} | {100 * row.Probe / row.InRegion:0}% | {100 * row.Probe / row.SingleController:0}% | {(nativeMicros > 0 ? nativeMicros.ToString("0.00", CultureInfo.InvariantCulture) : "–")} | {(nativeMicros > 0 ? (nativeMicros / row.InRegion).ToString("0.00", CultureInfo.InvariantCulture) : "–")} |"));
        }

        return 0;
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static unsafe Row Measure(int n, long bytes, double sampleSeconds)
    {
        using var provider = new CpuProvider(n);
        var mesh = new Mesh(provider.Devices, ("data", n));
        long count = bytes / sizeof(float);
        using GlobalArray<float> array = GlobalArray.DevicePut(
            new HostArray<float>([.. Enumerable.Range(0, (int)(count * n)).Select(i => (float)(i % 17))], n, count),
            new NamedSharding(mesh, new PartitionSpec("data")));

        // Fresh memory on this VM runs several times slower until the host has backed every page; warm it up first.
        long warmUntil = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 2);
        while (Stopwatch.GetTimestamp() < warmUntil)
        {
            provider.AllReduceShards(array, ReduceOp.Sum, "data");
        }

        // Three interleaved rounds, best median of each: DRAM bandwidth on this VM drifts by tens of percent over seconds.
        double inRegion = double.MaxValue, single = double.MaxValue, bound = double.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            inRegion = Math.Min(inRegion, MeasureInRegion(provider, mesh, array, count, sampleSeconds));
            single = Math.Min(single, Median(() => provider.AllReduceShards(array, ReduceOp.Sum, "data"), sampleSeconds));
            bound = Math.Min(bound, MeasureProbe(array, count, sampleSeconds));
        }

        return new Row(inRegion, single, bound);
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
        return (nint)((Artifex.Cpu.CpuBuffer)buffer).Pointer;
    }

    private static string Size(long bytes) => bytes >= 1 << 20 ? $"{bytes >> 20} MiB" : $"{bytes >> 10} KiB";

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Auto)]
    private readonly record struct Row(double InRegion, double SingleController, double Probe);
}
