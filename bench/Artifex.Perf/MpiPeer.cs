using System.Globalization;
using Artifex.Benchmarks;

namespace Artifex.Perf;

/// <summary>
/// Builds (if needed) and runs the OpenMPI <c>MPI_Allreduce</c> sweep of <c>bench/peers/mpi</c> with the same N and
/// size range, and reads its time per size. Without OpenMPI it says how to install it and the run goes on without it.
/// </summary>
internal static class MpiPeer
{
    private static readonly string[] s_source = ["mpi", "mpi_allreduce.c"];

    public static Dictionary<long, double> Run(int processes, long minBytes, long maxBytes, TextWriter log)
    {
        var times = new Dictionary<long, double>();
        if (!ExternalProcess.IsOnPath("mpicc") || !ExternalProcess.IsOnPath("mpirun"))
        {
            log.WriteLine("# --compare-mpi: OpenMPI is not installed; install it with: apt-get install openmpi-bin libopenmpi-dev (continuing without it)");
            return times;
        }

        string? source = ExternalProcess.FindPeer(s_source);
        if (source is null)
        {
            log.WriteLine($"# --compare-mpi: {ExternalProcess.PeerName(s_source)} not found (run from a clone of the repository); continuing without it");
            return times;
        }

        string binary = ExternalProcess.BinaryFor("mpi-allreduce", source);
        if (!File.Exists(binary) && !ExternalProcess.TryRun("mpicc", ["-O3", "-march=native", "-o", binary, source], null, log, out _))
        {
            log.WriteLine("# --compare-mpi: mpicc could not build the peer (apt-get install libopenmpi-dev); continuing without it");
            return times;
        }

        string[] arguments = ["--allow-run-as-root", "--oversubscribe", "-np", processes.ToString(CultureInfo.InvariantCulture), binary,
            Math.Max(4, minBytes).ToString(CultureInfo.InvariantCulture), maxBytes.ToString(CultureInfo.InvariantCulture), "0.2"];
        if (!ExternalProcess.TryRun("mpirun", arguments, null, log, out string output))
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
}
