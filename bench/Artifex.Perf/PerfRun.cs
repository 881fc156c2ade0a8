using System.Globalization;
using Artifex.Cpu;
using Artifex.Mpi;

namespace Artifex.Perf;

/// <summary>Runs the size sweep of one invocation and prints it; the exit code is 1 if any result was wrong.</summary>
internal static class PerfRun
{
    public static int Execute(PerfSettings settings, TextWriter output) => ExitCode(Measure(settings, output));

    /// <summary>1 if any element of any mode (out of place or in place) was wrong, else 0.</summary>
    public static int ExitCode(IEnumerable<ResultRow> rows) => rows.Any(static r => r.TotalWrong != 0) ? 1 : 0;

    /// <summary>
    /// Runs the sweep, printing the nccl-tests table as it goes (and writing <see cref="PerfSettings.OutputPath"/>), and
    /// returns the rows. Under <c>mpirun</c> every process runs the sweep and gets the same rows (wrong counts of the whole
    /// job), but only process 0 prints and writes.
    /// </summary>
    public static List<ResultRow> Measure(PerfSettings settings, TextWriter output)
    {
        using DeviceProvider provider = settings.Provider switch
        {
            "cuda" => new Cuda.CudaProvider(settings.Devices),
            MpiProvider.ProviderName => new MpiProvider(settings.Devices),
            _ => new CpuProvider(settings.Devices),
        };
        bool reports = provider.ProcessIndex == 0;
        output = reports ? output : TextWriter.Null;
        Dictionary<long, double> mpi = settings.CompareMpi && settings.Kind == CollectiveKind.AllReduce
            ? MpiPeer.Run(settings.Devices, settings.MinBytes, settings.MaxBytes, output)
            : [];
        Report.Header(settings, DescribeDevices(provider), output);
        var rows = new List<ResultRow>();
        int n = provider.Devices.Count;

        // Every rank must get whole elements of a gather or scatter, so their sizes are rounded down to a multiple of
        // N × element size; an all-reduce or broadcast needs only whole elements (4 B is one float, as in nccl-tests).
        int elementSize = CollectiveBench.ElementSize(settings.ElementType);
        long granule = settings.Kind is CollectiveKind.AllGather or CollectiveKind.ReduceScatter ? (long)n * elementSize : elementSize;

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
        if (settings.OutputPath is not null && reports)
        {
            Report.Write(settings.OutputPath, rows);
        }

        return rows;
    }

    private static string DescribeDevices(DeviceProvider provider) => provider.ProcessCount == 1
        ? string.Create(CultureInfo.InvariantCulture, $"{provider.Devices.Count} devices")
        : string.Create(CultureInfo.InvariantCulture, $"{provider.ProcessCount} processes x {provider.LocalDevices.Count} devices = {provider.Devices.Count} devices");
}
