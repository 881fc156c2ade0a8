using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Artifex.Perf;

/// <summary>
/// Prints rows the way nccl-tests does (an out-of-place and an in-place group of time, algbw, busbw and #wrong per size),
/// plus our columns, and writes them as JSON or CSV.
/// </summary>
internal static class Report
{
    // The bound is NaN where there is none (GPU memory, several processes), and a mode's figures are NaN where it is not
    // measured: written as "NaN" rather than failing.
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>The width of one mode's group of columns: time, algbw, busbw, #wrong and %bound, each after a space.</summary>
    private const int GroupWidth = 1 + 11 + 1 + 8 + 1 + 8 + 1 + 7 + 1 + 7;

    public static void Header(PerfSettings s, string devices, TextWriter output)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"# artifex-perf {Name(s.Kind)}: provider {s.Provider}, {devices}, {s.ElementType}, {(s.HostIssued ? "single-controller" : "in-region")}, {(s.Determinism == Determinism.Reproducible ? $"reproducible ({ReproducibleSum.Version})" : "rank-ordered")}, warmup {s.Warmup}, iters {s.Iterations}"));
        output.WriteLine("# bound: the collective's minimum memory traffic at the bandwidth of a read-modify-write pass over the same buffers, measured per size; %bound: bound / time");
        string mpi = s.CompareMpi ? $" {"mpi(us)",10} {"mpi/ours",8}" : string.Empty;
        output.WriteLine($"#{string.Empty,39}{Center("out-of-place", GroupWidth)}{Center("in-place", GroupWidth)}".TrimEnd());
        output.WriteLine($"#{"size(B)",12} {"count",12} {"type",6} {"redop",6}{GroupHeader()}{GroupHeader()} {"bound(us)",10}{mpi}");
        string units = $" {string.Empty,11} {"(GB/s)",8} {"(GB/s)",8}".PadRight(GroupWidth);
        output.WriteLine($"#{string.Empty,12} {"(elements)",12} {string.Empty,6} {string.Empty,6}{units}{units}".TrimEnd());
    }

    public static void Row(ResultRow r, bool withMpi, TextWriter output)
    {
        // The C peer runs MPI_IN_PLACE: its ratio is to our in-place time.
        string mpi = !withMpi ? string.Empty
            : r.MpiMicros is { } m && r.HasInPlace ? string.Create(CultureInfo.InvariantCulture, $" {m,10:0.00} {m / r.InPlaceTimeMicros,8:0.00}")
            : r.MpiMicros is { } alone ? string.Create(CultureInfo.InvariantCulture, $" {alone,10:0.00} {"-",8}") : $" {"-",10} {"-",8}";
        string bound = double.IsNaN(r.BoundMicros) ? $" {"n/a",10}" : string.Create(CultureInfo.InvariantCulture, $" {r.BoundMicros,10:0.00}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $" {r.Bytes,12} {r.Count,12} {r.Type,6} {r.RedOp,6}{Group(r.TimeMicros, r.AlgBandwidth, r.BusBandwidth, r.Wrong, r.PercentOfBound)}{Group(r.InPlaceTimeMicros, r.InPlaceAlgBandwidth, r.InPlaceBusBandwidth, r.InPlaceWrong, r.InPlacePercentOfBound)}{bound}{mpi}"));
        if (r.ExceedsBound)
        {
            output.WriteLine(BoundWarning(r));
        }
    }

    /// <summary>The comment line printed under a row that beats the bound, naming the mode(s) that did.</summary>
    public static string BoundWarning(ResultRow r)
    {
        string[] modes = [.. new[] { (r.PercentOfBound, "out of place"), (r.InPlacePercentOfBound, "in place") }
            .Where(static m => m.Item1 > 100)
            .Select(static m => string.Create(CultureInfo.InvariantCulture, $"{m.Item1:0}% of the bound {m.Item2}"))];
        return string.Create(CultureInfo.InvariantCulture,
            $"# warning: {r.Bytes} B ran at {string.Join(" and ", modes)}, faster than its memory traffic allows: not a trustworthy measurement (a loaded machine or a timer too coarse for the run); rerun on an idle machine or with more --iters");
    }

    public static void Footer(IReadOnlyList<ResultRow> rows, TextWriter output)
    {
        int untrustworthy = rows.Count(static r => r.ExceedsBound);
        if (untrustworthy > 0)
        {
            output.WriteLine($"# Above the bound      : {untrustworthy} size(s) marked ! are not trustworthy");
        }

        // As nccl-tests: the wrong elements and the average bus bandwidth are over both modes (those measured).
        output.WriteLine($"# Out of bounds values : {rows.Sum(static r => r.TotalWrong)} {(rows.All(static r => r.TotalWrong == 0) ? "OK" : "FAILED")}");
        double[] busbw = [.. rows.SelectMany(static r => new[] { r.BusBandwidth, r.InPlaceBusBandwidth }).Where(static b => !double.IsNaN(b))];
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# Avg bus bandwidth    : {(busbw.Length == 0 ? 0 : busbw.Average()):0.000}"));
    }

    public static void Write(string path, IReadOnlyList<ResultRow> rows)
    {
        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            // The in-place columns come last, so that readers of the older columns by position still find them.
            var csv = new StringBuilder("bytes,count,type,redop,time_us,algbw_gbs,busbw_gbs,wrong,bound_us,percent_of_bound,exceeds_bound,mpi_us,inplace_time_us,inplace_algbw_gbs,inplace_busbw_gbs,inplace_wrong,inplace_percent_of_bound\n");
            foreach (ResultRow r in rows)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{r.Bytes},{r.Count},{r.Type},{r.RedOp},{r.TimeMicros:0.###},{r.AlgBandwidth:0.###},{r.BusBandwidth:0.###},{r.Wrong},{r.BoundMicros:0.###},{r.PercentOfBound:0.#},{(r.ExceedsBound ? "true" : "false")},{r.MpiMicros?.ToString("0.###", CultureInfo.InvariantCulture)},");
                csv.Append(CultureInfo.InvariantCulture, $"{r.InPlaceTimeMicros:0.###},{r.InPlaceAlgBandwidth:0.###},{r.InPlaceBusBandwidth:0.###},{r.InPlaceWrong},{r.InPlacePercentOfBound:0.#}\n");
            }

            File.WriteAllText(path, csv.ToString());
            return;
        }

        File.WriteAllText(path, JsonSerializer.Serialize(rows, s_json));
    }

    public static string Name(CollectiveKind kind) => kind switch
    {
        CollectiveKind.AllReduce => "allreduce",
        CollectiveKind.AllGather => "allgather",
        CollectiveKind.ReduceScatter => "reducescatter",
        _ => "broadcast",
    };

    private static string GroupHeader() => $" {"time(us)",11} {"algbw",8} {"busbw",8} {"#wrong",7} {"%bound",7}";

    /// <summary>One mode's columns; <c>n/a</c> in each where the mode is not measured, so every row has the same number of fields.</summary>
    private static string Group(double micros, double algbw, double busbw, long wrong, double percent)
    {
        if (double.IsNaN(micros))
        {
            return $" {"n/a",11} {"n/a",8} {"n/a",8} {"n/a",7} {"n/a",7}";
        }

        string ofBound = double.IsNaN(percent) ? $" {"n/a",7}"
            : string.Create(CultureInfo.InvariantCulture, $" {percent,5:0}%{(percent > 100 ? "!" : " ")}");
        return string.Create(CultureInfo.InvariantCulture, $" {micros,11:0.00} {algbw,8:0.00} {busbw,8:0.00} {wrong,7}{ofBound}");
    }

    private static string Center(string text, int width) => text.PadLeft((width + text.Length) / 2).PadRight(width);
}
