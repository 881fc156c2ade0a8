using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Artifex.Samples.FashionMnist;
using Spectre.Console;

namespace Artifex.Samples.Tests;

/// <summary>
/// The training sample across processes: 2 processes × 2 devices under mpirun against 1 process × 4 devices on the same
/// global batches. Skipped without mpirun.
/// </summary>
public sealed class MpiTrainingEquivalenceTests : IDisposable
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(300);
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "artifex-mpi-sample-" + Guid.NewGuid().ToString("N"));

    public MpiTrainingEquivalenceTests() => Directory.CreateDirectory(_folder);

    [Fact]
    public void TwoProcessesTimesTwoDevices_EqualsOneProcessTimesFour_AndRepeatsBitForBit()
    {
        string mpirun = FindOnPath("mpirun") ?? string.Empty;
        Assert.SkipWhen(mpirun.Length == 0, "mpirun is not on PATH: install OpenMPI (Debian/Ubuntu: apt-get install openmpi-bin).");
        string first = Path.Combine(_folder, "mpi-1.bin"), second = Path.Combine(_folder, "mpi-2.bin"), single = Path.Combine(_folder, "cpu.bin");
        RunUnderMpirun(mpirun, first);
        RunUnderMpirun(mpirun, second);
        var options = new TrainingOptions
        {
            Synthetic = true,
            Devices = 4,
            Epochs = 1,
            BatchSize = 64,
            TrainLimit = 1024,
            TestLimit = 256,
            OutputDirectory = Path.Combine(_folder, "cpu"),
            SaveParameters = single,
        };
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) });
        Assert.Equal(0, TrainingApp.Run(options, console));

        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        float[] mpi = Floats(first), cpu = Floats(single);
        Assert.Equal(cpu.Length, mpi.Length);
        double difference = Math.Sqrt(cpu.Zip(mpi).Sum(static p => Math.Pow((double)p.First - p.Second, 2)));
        double norm = Math.Sqrt(cpu.Sum(static v => (double)v * v));
        Assert.True(difference <= 1e-5 * norm, string.Create(CultureInfo.InvariantCulture, $"relative 2-norm difference {difference / norm:E2} (bar 1e-5)"));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private void RunUnderMpirun(string mpirun, string parameters)
    {
        string sample = Path.Combine(AppContext.BaseDirectory, "Artifex.Samples.FashionMnist.dll");
        var start = new ProcessStartInfo(mpirun) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in (string[])[
            "--allow-run-as-root", "--oversubscribe", "-np", "2", "-x", "TERM=dumb", Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", sample,
            "--provider", "mpi", "--devices", "4", "--epochs", "1", "--batch-size", "64", "--synthetic", "--train-limit", "1024", "--test-limit", "256",
            "--output", Path.Combine(_folder, "mpi"), "--save-parameters", parameters])
        {
            start.ArgumentList.Add(argument);
        }

        // Shared memory only, no network probing: start-up in a fraction of a second on one host.
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
            Assert.Fail($"mpirun did not finish within {s_limit.TotalSeconds} s and was killed.");
        }

        Assert.True(process.ExitCode == 0, $"mpirun exited {process.ExitCode}: {output.Result}{error.Result}");
        Assert.True(File.Exists(parameters), $"process 0 wrote no parameters: {output.Result}");
        Assert.True(output.Result.Split('\n').Count(static line => line.StartsWith("Data: ", StringComparison.Ordinal)) == 1, $"not one report of the data (only process 0 reports): {output.Result}");
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, "mpi", "summary.json")));
        Assert.Equal("mpi", summary.RootElement.GetProperty("provider").GetString());
        Assert.Equal(2, summary.RootElement.GetProperty("processes").GetInt32());
    }

    private static float[] Floats(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, name))
            .FirstOrDefault(File.Exists);
}
