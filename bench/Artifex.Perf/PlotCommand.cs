using System.CommandLine;
using System.Globalization;
using System.Numerics;
using System.Text;
using ScottPlot;

namespace Artifex.Perf;

/// <summary>
/// <c>artifex-perf plot</c>: all-reduce sweeps for several device counts, drawn as busbw against size beside the
/// bound measured over the same buffers and OpenMPI's <c>MPI_Allreduce</c>, plus a markdown table with the scaling of
/// cost with N·S. It draws the in-place figures of each sweep (the peer runs in place); the printed tables carry both.
/// </summary>
internal static class PlotCommand
{
    private const int Warmup = 5;

    public static Command Create(TextWriter output, TextWriter error)
    {
        var devices = new Option<string>("--devices") { Description = "Device counts, comma-separated.", DefaultValueFactory = _ => "2,4,8" };
        var minBytes = new Option<string>("--minbytes", "-b") { DefaultValueFactory = _ => "4K", Description = "Smallest size." };
        var maxBytes = new Option<string>("--maxbytes", "-e") { DefaultValueFactory = _ => "64M", Description = "Largest size." };
        var factor = new Option<double>("--stepfactor", "-f") { DefaultValueFactory = _ => 4, Description = "Size step factor." };
        var iterations = new Option<int>("--iters", "-n") { DefaultValueFactory = _ => 20, Description = "Timed iterations per sample." };
        var png = new Option<string>("--png") { DefaultValueFactory = _ => "allreduce-busbw.png", Description = "Output PNG." };
        var markdown = new Option<string?>("--markdown") { Description = "Also write the tables as markdown." };
        var compareMpi = new Option<bool>("--compare-mpi") { Description = "Draw OpenMPI's MPI_Allreduce too (when installed)." };
        var command = new Command("plot", "All-reduce busbw against size for several N, with the bound and OpenMPI, as a PNG.")
        {
            devices, minBytes, maxBytes, factor, iterations, png, markdown, compareMpi,
        };
        command.SetAction(result =>
        {
            string? problem = ParseDeviceCounts(result.GetValue(devices)!, out int[] counts);
            long min = 0, max = 0;
            foreach (int n in counts)
            {
                // The sweep each count runs, checked as the allreduce command checks it: before anything is measured.
                problem ??= PerfCommand.Validate(CollectiveKind.AllReduce, "cpu", n, result.GetValue(minBytes)!, result.GetValue(maxBytes)!,
                    result.GetValue(factor), result.GetValue(iterations), Warmup, "sum", "float", "region", out min, out max, out _);
            }

            if (problem is not null)
            {
                return PerfApp.Refuse(error, $"plot: {problem}");
            }

            return Run(counts, min, max, result.GetValue(factor), result.GetValue(iterations), result.GetValue(png)!, result.GetValue(markdown), result.GetValue(compareMpi), output);
        });
        return command;
    }

    /// <summary>Parses <c>--devices</c>: comma-separated whole numbers, each at least 1.</summary>
    private static string? ParseDeviceCounts(string text, out int[] counts)
    {
        string[] items = text.Split(',', StringSplitOptions.TrimEntries);
        counts = new int[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            if (!int.TryParse(items[i], NumberStyles.None, CultureInfo.InvariantCulture, out counts[i]) || counts[i] < 1)
            {
                counts = [];
                return $"--devices '{text}': '{items[i]}' is not a device count; give whole numbers of at least 1, comma-separated (e.g. 2,4,8).";
            }
        }

        return null;
    }

    private static int Run(int[] deviceCounts, long min, long max, double factor, int iterations, string pngPath, string? markdownPath, bool compareMpi, TextWriter output)
    {
        var plot = new Plot();
        var markdown = new StringBuilder();
        Color[] colors = [Colors.C0, Colors.C1, Colors.C2, Colors.C3];
        int wrong = 0;
        for (int c = 0; c < deviceCounts.Length; c++)
        {
            int n = deviceCounts[c];
            var settings = new PerfSettings(CollectiveKind.AllReduce, "cpu", n, min, max, factor, iterations, Warmup, ReduceOp.Sum, "float", false, null, compareMpi, 0.2);
            List<ResultRow> rows = PerfRun.Measure(settings, output);
            Dictionary<long, double> mpi = compareMpi ? MpiPeer.Run(n, min, max, output) : [];
            wrong += rows.Count(static r => r.TotalWrong != 0);
            double busFactor = 2.0 * (n - 1) / n;
            // The in-place figures: the usual training shape, and what the OpenMPI peer runs (MPI_IN_PLACE).
            double[] xs = [.. rows.Select(static r => Math.Log2(r.Bytes))];
            Add(plot, xs, [.. rows.Select(static r => r.InPlaceBusBandwidth)], $"Artifex N={n}", colors[c % colors.Length], LinePattern.Solid, markers: true);
            Add(plot, xs, [.. rows.Select(r => r.Bytes / (r.BoundMicros * 1e-6) / 1e9 * busFactor)], $"bound N={n}", colors[c % colors.Length], LinePattern.Dashed);
            ResultRow[] withMpi = [.. rows.Where(r => mpi.ContainsKey(r.Bytes))];
            if (withMpi.Length > 0)
            {
                Add(plot, [.. withMpi.Select(static r => Math.Log2(r.Bytes))], [.. withMpi.Select(r => r.Bytes / (mpi[r.Bytes] * 1e-6) / 1e9 * busFactor)], $"OpenMPI N={n}", colors[c % colors.Length], LinePattern.Dotted);
            }

            AppendTable(markdown, n, rows, mpi);
        }

        long[] ticks = [.. Enumerable.Range(0, 64).Select(static i => 1L << i).Where(b => b >= min && b <= max && BitOperations.Log2((ulong)b) % 2 == 0)];
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks.Select(static t => Math.Log2(t))], [.. ticks.Select(ByteSize.Format)]);
        plot.Axes.Bottom.Label.Text = "size per rank (bytes)";
        plot.Axes.Left.Label.Text = "busbw (GB/s)";
        plot.Title("float all-reduce (sum, in place): Artifex CPU provider, same-working-set bound, OpenMPI");
        plot.ShowLegend(Edge.Right);
        plot.SavePng(pngPath, 1100, 600);
        output.WriteLine($"# wrote {pngPath}");
        if (markdownPath is not null)
        {
            File.WriteAllText(markdownPath, markdown.ToString());
            output.WriteLine($"# wrote {markdownPath}");
        }

        return wrong == 0 ? 0 : 1;
    }

    private static void Add(Plot plot, double[] xs, double[] ys, string label, Color color, LinePattern pattern, bool markers = false)
    {
        var scatter = plot.Add.Scatter(xs, ys);
        scatter.LegendText = label;
        scatter.Color = color;
        scatter.LinePattern = pattern;
        scatter.LineWidth = 2;
        scatter.MarkerSize = markers ? 5 : 0;
    }

    private static void AppendTable(StringBuilder markdown, int n, List<ResultRow> rows, Dictionary<long, double> mpi)
    {
        markdown.Append(CultureInfo.InvariantCulture, $"\n| N | S | time µs | busbw GB/s | bound µs | % of bound | ns per byte of N·S | OpenMPI µs | OpenMPI / ours |\n");
        markdown.Append("|---|---|---|---|---|---|---|---|---|\n");
        foreach (ResultRow r in rows)
        {
            string mpiText = mpi.TryGetValue(r.Bytes, out double m)
                ? string.Create(CultureInfo.InvariantCulture, $"{m:0.00} | {m / r.InPlaceTimeMicros:0.00}")
                : "– | –";
            markdown.Append(CultureInfo.InvariantCulture,
                $"| {n} | {ByteSize.Format(r.Bytes)} | {r.InPlaceTimeMicros:0.00} | {r.InPlaceBusBandwidth:0.00} | {r.BoundMicros:0.00} | {r.InPlacePercentOfBound:0}%{(r.InPlacePercentOfBound > 100 ? " (above the bound: not trustworthy)" : string.Empty)} | {r.InPlaceTimeMicros * 1e3 / (n * (double)r.Bytes):0.0000} | {mpiText} |\n");
        }
    }
}
