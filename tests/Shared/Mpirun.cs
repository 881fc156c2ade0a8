using System.Diagnostics;

namespace Artifex.Testing;

/// <summary>
/// Runs a sample under <c>mpirun</c> on one host: shared-memory transports, no network probing and no ssh (start-up in a
/// fraction of a second), no terminal escapes, and the whole process tree killed past a hang guard.
/// </summary>
internal static class Mpirun
{
    /// <summary>A hang guard far above a job's time on a loaded machine.</summary>
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(300);

    /// <summary>Skips the test unless mpirun is on PATH.</summary>
    /// <returns>The path of mpirun.</returns>
    public static string Require()
    {
        string? mpirun = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(static folder => Path.Combine(folder, "mpirun"))
            .FirstOrDefault(File.Exists);
        Assert.SkipWhen(mpirun is null, "mpirun is not on PATH: install OpenMPI (Debian/Ubuntu: apt-get install openmpi-bin).");
        return mpirun!;
    }

    /// <summary>Runs <paramref name="assembly"/> (a sample next to the tests) on <paramref name="processes"/> processes.</summary>
    /// <returns>The exit code and what the job printed.</returns>
    public static (int ExitCode, string Output, string Error) Run(int processes, string assembly, params string[] arguments)
    {
        string mpirun = Require();
        var start = new ProcessStartInfo(mpirun) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        string[] command = ["--allow-run-as-root", "--oversubscribe", "-np", $"{processes}", "-x", "TERM=dumb", dotnet, Path.Combine(AppContext.BaseDirectory, assembly), .. arguments];
        foreach (string argument in command)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["OMPI_MCA_pml"] = "ob1";
        start.Environment["OMPI_MCA_btl"] = "self,vader";
        start.Environment["OMPI_MCA_plm"] = "isolated";
        start.Environment["TERM"] = "dumb";
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        Task<string> error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        if (!process.WaitForExit(s_limit))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"mpirun {string.Join(' ', command)} did not finish within {s_limit.TotalSeconds} s and was killed.");
        }

        return (process.ExitCode, output.Result, error.Result);
    }
}
