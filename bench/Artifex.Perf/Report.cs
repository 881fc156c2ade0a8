using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Artifex.Perf;

/// <summary>Prints rows the way nccl-tests does, plus our columns, and writes them as JSON or CSV.</summary>
internal static class Report
{
    // The bound is NaN where there is none (GPU memory, several processes): written as "NaN" rather than failing.
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static void Header(PerfSettings s, string devices, TextWriter output)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"# artifex-perf {Name(s.Kind)}: provider {s.Provider}, {devices}, {s.ElementType}, {(s.HostIssued ? "single-controller" : "in-region")}, {(s.Determinism == Determinism.Reproducible ? $"reproducible ({ReproducibleSum.Version})" : "rank-ordered")}, warmup {s.Warmup}, iters {s.Iterations}"));
        output.WriteLine("# bound: the collective's minimum memory traffic at the bandwidth of a read-modify-write pass over the same buffers, measured per size");
        output.WriteLine($"#{"size(B)",12} {"count",12} {"type",6} {"redop",6} {"time(us)",11} {"algbw",8} {"busbw",8} {"#wrong",7} {"bound(us)",10} {"%bound",7}{(s.CompareMpi ? $" {"mpi(us)",10} {"mpi/ours",8}" : string.Empty)}");
        output.WriteLine($"#{string.Empty,12} {"(elements)",12} {string.Empty,6} {string.Empty,6} {string.Empty,11} {"(GB/s)",8} {"(GB/s)",8}");
    }

    public static void Row(ResultRow r, bool withMpi, TextWriter output)
    {
        string mpi = !withMpi ? string.Empty
            : r.MpiMicros is { } m ? string.Create(CultureInfo.InvariantCulture, $" {m,10:0.00} {m / r.TimeMicros,8:0.00}") : $" {"-",10} {"-",8}";
        string bound = double.IsNaN(r.BoundMicros) ? $" {"n/a",10} {"n/a",7}"
            : string.Create(CultureInfo.InvariantCulture, $" {r.BoundMicros,10:0.00} {r.PercentOfBound,6:0}%{(r.ExceedsBound ? "!" : string.Empty)}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $" {r.Bytes,12} {r.Count,12} {r.Type,6} {r.RedOp,6} {r.TimeMicros,11:0.00} {r.AlgBandwidth,8:0.00} {r.BusBandwidth,8:0.00} {r.Wrong,7}{bound}{mpi}"));
        if (r.ExceedsBound)
        {
            output.WriteLine(BoundWarning(r));
        }
    }

    /// <summary>The comment line printed under a row that beats the bound.</summary>
    public static string BoundWarning(ResultRow r) => string.Create(CultureInfo.InvariantCulture,
        $"# warning: {r.Bytes} B ran at {r.PercentOfBound:0}% of the bound, faster than its memory traffic allows: not a trustworthy measurement (a loaded machine or a timer too coarse for the run); rerun on an idle machine or with more --iters");

    public static void Footer(IReadOnlyList<ResultRow> rows, TextWriter output)
    {
        int untrustworthy = rows.Count(static r => r.ExceedsBound);
        if (untrustworthy > 0)
        {
            output.WriteLine($"# Above the bound      : {untrustworthy} size(s) marked ! are not trustworthy");
        }

        output.WriteLine($"# Out of bounds values : {rows.Sum(static r => r.Wrong)} {(rows.All(static r => r.Wrong == 0) ? "OK" : "FAILED")}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# Avg bus bandwidth    : {(rows.Count == 0 ? 0 : rows.Average(static r => r.BusBandwidth)):0.000}"));
    }

    public static void Write(string path, IReadOnlyList<ResultRow> rows)
    {
        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            var csv = new StringBuilder("bytes,count,type,redop,time_us,algbw_gbs,busbw_gbs,wrong,bound_us,percent_of_bound,exceeds_bound,mpi_us\n");
            foreach (ResultRow r in rows)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{r.Bytes},{r.Count},{r.Type},{r.RedOp},{r.TimeMicros:0.###},{r.AlgBandwidth:0.###},{r.BusBandwidth:0.###},{r.Wrong},{r.BoundMicros:0.###},{r.PercentOfBound:0.#},{(r.ExceedsBound ? "true" : "false")},{r.MpiMicros?.ToString("0.###", CultureInfo.InvariantCulture)}\n");
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
}
