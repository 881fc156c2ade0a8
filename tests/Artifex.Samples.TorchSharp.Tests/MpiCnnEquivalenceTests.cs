using System.Runtime.InteropServices;
using System.Text.Json;
using Artifex.Samples.FashionMnist;
using Artifex.Testing;
using Spectre.Console;

namespace Artifex.Samples.TorchSharp.Tests;

/// <summary>
/// The CNN sample across processes: 2 processes × 1 device under mpirun against 1 process × 2 devices on the same global
/// batches, through TorchDataParallel on the MPI provider. Skipped without mpirun.
/// </summary>
public sealed class MpiCnnEquivalenceTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "artifex-mpi-cnn-" + Guid.NewGuid().ToString("N"));

    public MpiCnnEquivalenceTests() => Directory.CreateDirectory(_folder);

    [Fact]
    public void TwoProcessesTimesOneDevice_EqualsOneProcessTimesTwo_AndRepeatsBitForBit()
    {
        Mpirun.Require();
        LibTorch.Require();
        string first = Path.Combine(_folder, "mpi-1.bin"), second = Path.Combine(_folder, "mpi-2.bin"), single = Path.Combine(_folder, "cpu.bin");
        RunUnderMpirun(first);
        RunUnderMpirun(second);
        TrainingOptions options = CnnApp.Defaults with
        {
            Synthetic = true,
            Devices = 2,
            Epochs = 1,
            BatchSize = 64,
            TrainLimit = 512,
            TestLimit = 128,
            KernelThreads = 1,
            OutputDirectory = Path.Combine(_folder, "cpu"),
            SaveParameters = single,
        };
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) });
        Assert.Equal(0, CnnApp.Run(options, console));

        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        float[] mpi = Floats(first), cpu = Floats(single);
        RelativeDifference.AssertWithin(cpu, mpi, 1e-5, "parameters");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private void RunUnderMpirun(string parameters)
    {
        (int code, string output, string error) = Mpirun.Run(
            2,
            "Artifex.Samples.TorchSharp.dll",
            "--provider", "mpi", "--devices", "2", "--threads", "1", "--epochs", "1", "--batch-size", "64", "--synthetic", "--train-limit", "512", "--test-limit", "128",
            "--output", Path.Combine(_folder, "mpi"), "--save-parameters", parameters);

        Assert.True(code == 0, $"mpirun exited {code}: {output}{error}");
        Assert.True(File.Exists(parameters), $"process 0 wrote no parameters: {output}");
        Assert.True(output.Split('\n').Count(static line => line.StartsWith("Data: ", StringComparison.Ordinal)) == 1, $"not one report of the data (only process 0 reports): {output}");
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, "mpi", "summary.json")));
        Assert.Equal("mpi", summary.RootElement.GetProperty("provider").GetString());
        Assert.Equal(2, summary.RootElement.GetProperty("processes").GetInt32());
        Assert.True(summary.RootElement.GetProperty("replicas_identical").GetBoolean());
    }

    private static float[] Floats(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();
}
