using System.Diagnostics;
using System.Globalization;

namespace Artifex.Perf;

/// <summary>
/// Builds (if needed) and runs the OpenMPI <c>MPI_Allreduce</c> sweep of <c>../shared/peers/mpi</c> with the same N and
/// size range, and reads its time per size. Without OpenMPI it says how to install it and the run goes on without it.
/// </summary>
internal static class MpiPeer
{
    public static Dictionary<long, double> Run(int processes, long minBytes, long maxBytes, TextWriter log)
    {
        var times = new Dictionary<long, double>();
        if (!OnPath("mpicc") || !OnPath("mpirun"))
        {
            log.WriteLine("# --compare-mpi: OpenMPI is not installed; install it with: apt-get install openmpi-bin libopenmpi-dev (continuing without it)");
            return times;
        }

        string? source = FindPeerSource();
        if (source is null)
        {
            log.WriteLine("# --compare-mpi: ../shared/peers/mpi/mpi_allreduce.c not found next to the repository; continuing without it");
            return times;
        }

        string binary = Path.Combine(Path.GetTempPath(), "artifex-mpi-allreduce");
        if (!File.Exists(binary) && !Exec("mpicc", ["-O3", "-march=native", "-o", binary, source], out _, log))
        {
            return times;
        }

        string[] arguments = ["--allow-run-as-root", "--oversubscribe", "-np", processes.ToString(CultureInfo.InvariantCulture), binary,
            Math.Max(4, minBytes).ToString(CultureInfo.InvariantCulture), maxBytes.ToString(CultureInfo.InvariantCulture), "0.2"];
        if (!Exec("mpirun", arguments, out string output, log))
        {
            return times;
        }

        foreach (string line in output.Split('\n'))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 5 && !line.StartsWith('#')
                && long.TryParse(f[0], CultureInfo.InvariantCulture, out long bytes)
                && double.TryParse(f[4], CultureInfo.InvariantCulture, out double micros))
            {
                times[bytes] = micros;
            }
        }

        return times;
    }

    private static string? FindPeerSource()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "peers", "mpi", "mpi_allreduce.c");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Any(dir => File.Exists(Path.Combine(dir, program)));

    private static bool Exec(string file, string[] arguments, out string output, TextWriter log)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info)!;
        output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            log.WriteLine($"# {file} exited with {process.ExitCode}: {error.Trim()}");
        }

        return process.ExitCode == 0;
    }
}
