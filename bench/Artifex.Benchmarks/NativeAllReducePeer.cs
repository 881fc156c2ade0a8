using System.Diagnostics;
using System.Globalization;

namespace Artifex.Benchmarks;

/// <summary>
/// Builds and runs the native OpenMP fused all-reduce of <c>../shared/peers/allreduce-c</c> (when gcc and the peer
/// are present) with 2 threads, in the same session as our measurements, and reads its table.
/// </summary>
internal static class NativeAllReducePeer
{
    public static Dictionary<(int N, long Bytes), double> Run(string repositoryRoot, TextWriter log)
    {
        var times = new Dictionary<(int N, long Bytes), double>();
        string source = Path.GetFullPath(Path.Combine(repositoryRoot, "..", "shared", "peers", "allreduce-c", "allreduce_omp.c"));
        if (!File.Exists(source))
        {
            log.WriteLine($"native peer not found at {source}; skipped");
            return times;
        }

        string binary = Path.Combine(Path.GetTempPath(), "artifex-allreduce-omp");
        if (!Exec("gcc", $"-O3 -march=native -fopenmp -o {binary} {source}", null, out _, log))
        {
            log.WriteLine("gcc failed; native peer skipped");
            return times;
        }

        if (!Exec(binary, "30", new(StringComparer.Ordinal) { ["OMP_NUM_THREADS"] = "2", ["OMP_PROC_BIND"] = "close", ["OMP_PLACES"] = "cores" }, out string output, log))
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

    private static bool Exec(string file, string arguments, Dictionary<string, string>? environment, out string output, TextWriter log)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach ((string key, string value) in environment ?? [])
        {
            info.Environment[key] = value;
        }

        try
        {
            using Process process = Process.Start(info)!;
            output = process.StandardOutput.ReadToEnd();
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                log.WriteLine($"{file} exited with {process.ExitCode}: {error}");
            }

            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception error)
        {
            log.WriteLine($"{file} could not start: {error.Message}");
            output = string.Empty;
            return false;
        }
    }
}
