using System.Globalization;

namespace Artifex.Benchmarks;

/// <summary>
/// Builds and runs the OpenBLAS <c>cblas_sgemm</c> peer of <c>../shared/peers/gemm</c> (needs gcc and Debian's
/// <c>libopenblas-dev</c>, for the benchmark only) and the clock/FMA peak probe beside it.
/// </summary>
internal static class OpenBlasPeer
{
    /// <summary>Median GFLOP/s per shape name, and the core OpenBLAS chose; empty when the peer cannot run.</summary>
    public static (Dictionary<string, double> Gflops, string Core) Run(string? coreType, TextWriter log)
    {
        var figures = new Dictionary<string, double>(StringComparer.Ordinal);
        string? source = ExternalProcess.FindShared("peers", "gemm", "sgemm.c");
        if (source is null)
        {
            log.WriteLine("# ../shared/peers/gemm not found; OpenBLAS skipped");
            return (figures, "-");
        }

        string binary = Path.Combine(Path.GetTempPath(), "artifex-sgemm-openblas");
        if (!File.Exists(binary) && !ExternalProcess.TryRun("gcc", ["-O3", "-march=native", "-o", binary, source, "-lopenblas"], null, log, out _))
        {
            log.WriteLine("# gcc -lopenblas failed (apt-get install libopenblas-dev); OpenBLAS skipped");
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
        string? source = ExternalProcess.FindShared("peers", "gemm", "peak.c");
        string binary = Path.Combine(Path.GetTempPath(), "artifex-fma-peak");
        if (source is null || !ExternalProcess.TryRun("gcc", ["-O2", "-march=native", "-fopenmp", "-o", binary, source], null, log, out _))
        {
            return "peak probe unavailable";
        }

        var environment = new Dictionary<string, string?>(StringComparer.Ordinal) { ["OMP_NUM_THREADS"] = "1" };
        return ExternalProcess.TryRun(binary, ["3"], environment, log, out string output)
            ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim() ?? string.Empty
            : "peak probe failed";
    }
}
