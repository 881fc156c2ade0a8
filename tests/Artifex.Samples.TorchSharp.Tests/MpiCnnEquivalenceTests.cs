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
        float[] mpi = RunUnderMpirun(first);
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
        RelativeDifference.AssertWithin(MpirunSample.ReadParameters(single), mpi, 1e-5, "parameters");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private float[] RunUnderMpirun(string parameters) =>
        MpirunSample.Train("Artifex.Samples.TorchSharp.dll", Path.Combine(_folder, "mpi"), parameters, "--devices", "2", "--threads", "1", "--epochs", "1", "--batch-size", "64", "--synthetic", "--train-limit", "512", "--test-limit", "128");
}
