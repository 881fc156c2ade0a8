using Artifex.Cpu;

namespace Artifex.Perf;

/// <summary>Runs the size sweep of one invocation and prints it; the exit code is 1 if any result was wrong.</summary>
internal static class PerfRun
{
    public static int Execute(PerfSettings settings, TextWriter output)
    {
        List<ResultRow> rows = Measure(settings, output);
        if (settings.OutputPath is not null)
        {
            Report.Write(settings.OutputPath, rows);
        }

        return rows.Any(static r => r.Wrong != 0) ? 1 : 0;
    }

    /// <summary>Runs the sweep, printing the nccl-tests table as it goes, and returns the rows.</summary>
    public static List<ResultRow> Measure(PerfSettings settings, TextWriter output)
    {
        using DeviceProvider provider = string.Equals(settings.Provider, "cuda", StringComparison.Ordinal)
            ? new Cuda.CudaProvider(settings.Devices)
            : new CpuProvider(settings.Devices);
        Dictionary<long, double> mpi = settings.CompareMpi && settings.Kind == CollectiveKind.AllReduce
            ? MpiPeer.Run(settings.Devices, settings.MinBytes, settings.MaxBytes, output)
            : [];
        Report.Header(settings, output);
        var rows = new List<ResultRow>();

        // Every rank must get whole elements, so sizes are rounded down to a multiple of N × element size.
        long granule = (long)settings.Devices * CollectiveBench.ElementSize(settings.ElementType);

        // The JIT compiles first calls without optimization; one unreported pass gets the optimized code in place.
        new CollectiveBench(settings with { Iterations = 200, Warmup = 50 }, provider).Run(Math.Max(granule, settings.MinBytes / granule * granule));
        var bench = new CollectiveBench(settings, provider);
        for (double size = settings.MinBytes; size <= settings.MaxBytes; size *= settings.StepFactor)
        {
            long bytes = Math.Max(granule, (long)size / granule * granule);
            ResultRow row = bench.Run(bytes);
            row = row with { MpiMicros = mpi.TryGetValue(bytes, out double m) ? m : null };
            rows.Add(row);
            Report.Row(row, settings.CompareMpi, output);
        }

        Report.Footer(rows, output);
        return rows;
    }
}
