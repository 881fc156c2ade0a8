using System.Runtime.InteropServices;
using System.Text.Json;

namespace Artifex.Testing;

/// <summary>A training sample run on 2 processes under mpirun, checked as every such run must be, and its saved parameters.</summary>
internal static class MpirunSample
{
    /// <summary>
    /// Runs <paramref name="assembly"/> with <c>--provider mpi</c> on 2 processes, saving its parameters to
    /// <paramref name="parameters"/> and its outputs to <paramref name="output"/>, and checks that it succeeded, that
    /// process 0 alone reported and wrote, and what its summary says of the job.
    /// </summary>
    /// <returns>The saved parameters.</returns>
    public static float[] Train(string assembly, string output, string parameters, params string[] arguments)
    {
        (int code, string printed, string error) = Mpirun.Run(2, assembly, ["--provider", "mpi", .. arguments, "--output", output, "--save-parameters", parameters]);

        Assert.True(code == 0, $"mpirun exited {code}: {printed}{error}");
        Assert.True(File.Exists(parameters), $"process 0 wrote no parameters: {printed}");
        Assert.True(printed.Split('\n').Count(static line => line.StartsWith("Data: ", StringComparison.Ordinal)) == 1, $"not one report of the data (only process 0 reports): {printed}");
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.Equal("mpi", summary.RootElement.GetProperty("provider").GetString());
        Assert.Equal(2, summary.RootElement.GetProperty("processes").GetInt32());
        Assert.True(summary.RootElement.GetProperty("replicas_identical").GetBoolean());
        return ReadParameters(parameters);
    }

    /// <summary>Reads parameters saved by <c>--save-parameters</c> (raw float32).</summary>
    public static float[] ReadParameters(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();
}
