using System.Globalization;

namespace Artifex.Benchmarks;

/// <summary>
/// Builds and runs the native OpenMP fused all-reduce of <c>../shared/peers/allreduce-c</c> (when gcc and the peer
/// are present) with 2 threads, in the same run as our measurements, and reads its table.
/// </summary>
internal static class NativeAllReducePeer
{
    private static bool s_built;

    public static Dictionary<(int N, long Bytes), double> Run(TextWriter log)
    {
        var times = new Dictionary<(int N, long Bytes), double>();
        string? source = ExternalProcess.FindShared("peers", "allreduce-c", "allreduce_omp.c");
        if (source is null)
        {
            log.WriteLine("# native peer ../shared/peers/allreduce-c not found; skipped");
            return times;
        }

        string binary = Path.Combine(Path.GetTempPath(), "artifex-allreduce-omp");
        if (!s_built && !ExternalProcess.TryRun("gcc", ["-O3", "-march=native", "-fopenmp", "-o", binary, source], null, log, out _))
        {
            log.WriteLine("# gcc failed; native peer skipped");
            return times;
        }

        s_built = true;

        var environment = new Dictionary<string, string?>(StringComparer.Ordinal) { ["OMP_NUM_THREADS"] = "2", ["OMP_PROC_BIND"] = "close", ["OMP_PLACES"] = "cores" };
        if (!ExternalProcess.TryRun(binary, ["30"], environment, log, out string output))
        {
            return times;
        }

        foreach (string line in output.Split('\n'))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 3 && int.TryParse(f[0], CultureInfo.InvariantCulture, out int n) && long.TryParse(f[1], CultureInfo.InvariantCulture, out long bytes))
            {
                times[(n, bytes)] = double.Parse(f[2], CultureInfo.InvariantCulture);
            }
        }

        return times;
    }
}
