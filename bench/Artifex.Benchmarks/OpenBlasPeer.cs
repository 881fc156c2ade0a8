using System.Globalization;

namespace Artifex.Benchmarks;

/// <summary>
/// Builds and runs the OpenBLAS <c>cblas_sgemm</c> peer of <c>bench/peers/gemm</c> (needs gcc and Debian's
/// <c>libopenblas-dev</c>, for the benchmark only) and the clock/FMA peak probe beside it.
/// </summary>
internal static class OpenBlasPeer
{
    private static readonly string[] s_sgemm = ["gemm", "sgemm.c"];
    private static readonly string[] s_peakProbe = ["gemm", "peak.c"];

    /// <summary>Median GFLOP/s per shape name, and the core OpenBLAS chose; empty when the peer cannot run.</summary>
    public static (Dictionary<string, double> Gflops, string Core) Run(string? coreType, TextWriter log)
    {
        var figures = new Dictionary<string, double>(StringComparer.Ordinal);
        string? source = ExternalProcess.FindPeer(s_sgemm);
        if (source is null)
        {
            log.WriteLine($"# {ExternalProcess.PeerName(s_sgemm)} not found (run from a clone of the repository); OpenBLAS skipped");
            return (figures, "-");
        }

        if (!ExternalProcess.IsOnPath("gcc"))
        {
            log.WriteLine("# gcc not found; OpenBLAS skipped (apt-get install gcc libopenblas-dev)");
            return (figures, "-");
        }

        string binary = ExternalProcess.BinaryFor("sgemm-openblas", source);
        if (!File.Exists(binary) && !ExternalProcess.TryRun("gcc", ["-O3", "-march=native", "-o", binary, source, "-lopenblas"], null, log, out _))
        {
            log.WriteLine("# gcc -lopenblas failed; OpenBLAS skipped (apt-get install libopenblas-dev)");
            return (figures, "-");
        }

        var environment = new Dictionary<string, string?>(StringComparer.Ordinal) { ["OPENBLAS_NUM_THREADS"] = "1", ["OPENBLAS_CORETYPE"] = coreType };
        if (!ExternalProcess.TryRun(binary, ["0.7"], environment, log, out string output))
        {
            return (figures, "-");
        }

        string core = "?";
        foreach (string line in output.Split('\n'))
        {
            int at = line.IndexOf("core: ", StringComparison.Ordinal);
            if (at >= 0)
            {
                core = line[(at + 6)..].Split(' ')[0];
            }

            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 8 && int.TryParse(f[^7], CultureInfo.InvariantCulture, out _) && double.TryParse(f[^4], CultureInfo.InvariantCulture, out double median))
            {
                figures[string.Join(' ', f[..^7])] = median;
            }
        }

        return (figures, core);
    }

    /// <summary>The single-core FMA peak and clock the peer's probe measures, as printed.</summary>
    public static string Peak(TextWriter log)
    {
        string? source = ExternalProcess.FindPeer(s_peakProbe);
        if (source is null || !ExternalProcess.IsOnPath("gcc"))
        {
            return $"peak probe unavailable (needs {ExternalProcess.PeerName(s_peakProbe)} from a clone and gcc)";
        }

        string binary = ExternalProcess.BinaryFor("fma-peak", source);
        if (!File.Exists(binary) && !ExternalProcess.TryRun("gcc", ["-O2", "-march=native", "-fopenmp", "-o", binary, source], null, log, out _))
        {
            return "peak probe did not build (it needs OpenMP and AVX-512)";
        }

        var environment = new Dictionary<string, string?>(StringComparer.Ordinal) { ["OMP_NUM_THREADS"] = "1" };
        return ExternalProcess.TryRun(binary, ["3"], environment, log, out string output)
            ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim() ?? string.Empty
            : "peak probe failed";
    }
}
