using System.Globalization;

namespace Artifex.Benchmarks;

/// <summary>
/// Builds (with gcc, once per source) and runs the native OpenMP fused all-reduce of <c>bench/peers/allreduce-omp</c>
/// with 2 threads, in the same run as our measurements, and reads its table.
/// </summary>
internal static class NativeAllReducePeer
{
    private static readonly string[] s_source = ["allreduce-omp", "allreduce_omp.c"];

    public static Dictionary<(int N, long Bytes), double> Run(TextWriter log)
    {
        var times = new Dictionary<(int N, long Bytes), double>();
        string? source = ExternalProcess.FindPeer(s_source);
        if (source is null)
        {
            log.WriteLine($"# native peer {ExternalProcess.PeerName(s_source)} not found (run from a clone of the repository); skipped");
            return times;
        }

        if (!ExternalProcess.IsOnPath("gcc"))
        {
            log.WriteLine("# gcc not found; native peer skipped (apt-get install gcc, with OpenMP, on an AVX-512 machine)");
            return times;
        }

        string binary = ExternalProcess.BinaryFor("allreduce-omp", source);
        if (!File.Exists(binary) && !ExternalProcess.TryRun("gcc", ["-O3", "-march=native", "-fopenmp", "-o", binary, source], null, log, out _))
        {
            log.WriteLine("# gcc could not build the native peer (it needs OpenMP and AVX-512); skipped");
            return times;
        }

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
