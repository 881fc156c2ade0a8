using System.Diagnostics;
using System.Globalization;

namespace Artifex.Mpi.Tests;

/// <summary>
/// Launches the worker (tests/Artifex.Mpi.Worker) as an MPI job: <c>mpirun --allow-run-as-root --oversubscribe -np N
/// -x TERM=dumb dotnet Artifex.Mpi.Worker.dll SCENARIO</c>, with the transports pinned to shared memory
/// (<c>OMPI_MCA_pml=ob1</c>, <c>OMPI_MCA_btl=self,vader</c>), the local launcher (<c>OMPI_MCA_plm=isolated</c>, unless
/// set), output captured, and the whole process tree killed after
/// <see cref="Limit"/>.
/// </summary>
internal static class MpiJob
{
    /// <summary>How long a job may run before it is killed and the test fails: a hang guard, far above a job's time on a loaded machine.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(300);

    private const string WorkerFileName = "Artifex.Mpi.Worker.dll";

    /// <summary>Skips the test unless mpirun is on PATH and OpenMPI loads.</summary>
    /// <returns>The path of mpirun.</returns>
    public static string RequireMpirun()
    {
        Assert.SkipUnless(MpiRuntime.IsAvailable, $"OpenMPI is not available: {MpiRuntime.UnavailableReason}");
        string? mpirun = FindOnPath("mpirun");
        Assert.SkipWhen(mpirun is null, "mpirun is not on PATH: install OpenMPI (Debian/Ubuntu: apt-get install openmpi-bin).");
        return mpirun!;
    }

    /// <summary>Runs the worker under mpirun on <paramref name="ranks"/> processes.</summary>
    public static Task<MpiJobResult> RunAsync(int ranks, string scenario)
    {
        string mpirun = RequireMpirun();
        var start = new ProcessStartInfo(mpirun);
        foreach (string argument in (string[])["--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString(CultureInfo.InvariantCulture), "-x", "TERM=dumb"])
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add(DotnetHost());
        start.ArgumentList.Add(WorkerPath());
        start.ArgumentList.Add(scenario);
        return RunAsync(start);
    }

    /// <summary>Runs the worker directly, without mpirun: MPI's singleton mode.</summary>
    public static Task<MpiJobResult> RunSingletonAsync(string scenario)
    {
        Assert.SkipUnless(MpiRuntime.IsAvailable, $"OpenMPI is not available: {MpiRuntime.UnavailableReason}");
        var start = new ProcessStartInfo(DotnetHost());
        start.ArgumentList.Add(WorkerPath());
        start.ArgumentList.Add(scenario);
        return RunAsync(start);
    }

    private static async Task<MpiJobResult> RunAsync(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        PrepareEnvironment(start.Environment);
        var clock = Stopwatch.StartNew();
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start.");
        Task<string> output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        Task<string> error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(Limit);
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // mpirun and every rank: a hung job must not outlive the test.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            Assert.Fail($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not finish within {Limit.TotalSeconds} s and was killed.{Environment.NewLine}{await output.ConfigureAwait(false)}{await error.ConfigureAwait(false)}");
        }

        return new MpiJobResult(process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false), clock.Elapsed);
    }

    /// <summary>Pins the transports and the terminal, and drops launcher variables that a surrounding job may have set.</summary>
    private static void PrepareEnvironment(IDictionary<string, string?> environment)
    {
        foreach (string name in environment.Keys.Where(IsLauncherVariable).ToList())
        {
            environment.Remove(name);
        }

        environment["OMPI_MCA_pml"] = "ob1";
        environment["OMPI_MCA_btl"] = "self,vader";
        environment["TERM"] = "dumb"; // under mpirun stdout is a pty, and .NET would write terminal escapes into it

        // One node: start the local daemons without the ssh/rsh agent OpenMPI's default launcher requires in PATH.
        environment.TryAdd("OMPI_MCA_plm", "isolated");
    }

    private static bool IsLauncherVariable(string name) =>
        name.StartsWith("OMPI_COMM_WORLD", StringComparison.Ordinal)
        || name.StartsWith("OMPI_MCA_orte_", StringComparison.Ordinal)
        || name.StartsWith("PMIX_", StringComparison.Ordinal);

    /// <summary>The dotnet host that runs this test, so the worker runs on the same runtime.</summary>
    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (host is not null && File.Exists(host))
        {
            return host;
        }

        string? process = Environment.ProcessPath;
        return process is not null && string.Equals(Path.GetFileNameWithoutExtension(process), "dotnet", StringComparison.Ordinal)
            ? process
            : FindOnPath("dotnet") ?? "dotnet";
    }

    /// <summary>
    /// The worker next to the tests (the project reference copies it there), or else in its own project's output for the
    /// same configuration and framework.
    /// </summary>
    private static string WorkerPath()
    {
        string here = AppContext.BaseDirectory;
        string beside = Path.Combine(here, WorkerFileName);
        if (File.Exists(beside) && File.Exists(Path.ChangeExtension(beside, ".runtimeconfig.json")))
        {
            return beside;
        }

        // tests/Artifex.Mpi.Tests/bin/<configuration>/<framework>/ -> tests/Artifex.Mpi.Worker/bin/<configuration>/<framework>/
        var output = new DirectoryInfo(here.TrimEnd(Path.DirectorySeparatorChar));
        string framework = output.Name;
        string configuration = output.Parent?.Name ?? "Debug";
        string? tests = output.Parent?.Parent?.Parent?.Parent?.FullName;
        string own = tests is null ? beside : Path.Combine(tests, "Artifex.Mpi.Worker", "bin", configuration, framework, WorkerFileName);
        Assert.True(File.Exists(own), $"The MPI worker is missing: looked for {beside} and {own}. Build tests/Artifex.Mpi.Worker.");
        return own;
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(File.Exists);
}
