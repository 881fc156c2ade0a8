using Artifex.Samples.FashionMnist;
using Artifex.Testing;
using Spectre.Console;

namespace Artifex.Samples.Tests;

/// <summary>
/// The training sample across processes: 2 processes × 2 devices under mpirun against 1 process × 4 devices on the same
/// global batches (close in the default mode, bitwise equal in reproducible mode). Skipped without mpirun.
/// </summary>
public sealed class MpiTrainingEquivalenceTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "artifex-mpi-sample-" + Guid.NewGuid().ToString("N"));

    public MpiTrainingEquivalenceTests() => Directory.CreateDirectory(_folder);

    [Fact]
    public void TwoProcessesTimesTwoDevices_EqualsOneProcessTimesFour_AndRepeatsBitForBit()
    {
        Mpirun.Require();
        string first = Path.Combine(_folder, "mpi-1.bin"), second = Path.Combine(_folder, "mpi-2.bin"), single = Path.Combine(_folder, "cpu.bin");
        float[] mpi = RunUnderMpirun(first);
        RunUnderMpirun(second);
        TrainInOneProcess(new TrainingOptions { TrainLimit = 1024, TestLimit = 256, SaveParameters = single });

        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        RelativeDifference.AssertWithin(MpirunSample.ReadParameters(single), mpi, 1e-5, "parameters");
    }

    [Fact]
    public void Reproducible_TwoProcessesTimesTwoDevices_BitwiseEqualsOneProcessTimesFour()
    {
        // Across processes the microbatch gradients go through states summed exactly by MPI; in one process through the
        // fused pass: the same multiset of contributions, so the same bits.
        Mpirun.Require();
        string mpi = Path.Combine(_folder, "mpi-reproducible.bin"), single = Path.Combine(_folder, "cpu-reproducible.bin");
        MpirunSample.Train(
            "Artifex.Samples.FashionMnist.dll", Path.Combine(_folder, "mpi"), mpi,
            "--devices", "4", "--epochs", "1", "--batch-size", "64", "--synthetic", "--train-limit", "512", "--test-limit", "128", "--reproducible", "--microbatch", "8");
        TrainInOneProcess(new TrainingOptions { TrainLimit = 512, TestLimit = 128, Reproducible = true, Microbatch = 8, SaveParameters = single });

        Assert.Equal(File.ReadAllBytes(single), File.ReadAllBytes(mpi));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>The sample in this process on 4 CPU devices, one epoch of synthetic data in batches of 64, as the mpirun jobs run it.</summary>
    private void TrainInOneProcess(TrainingOptions options)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) });
        TrainingOptions full = options with { Synthetic = true, Devices = 4, Epochs = 1, BatchSize = 64, OutputDirectory = Path.Combine(_folder, "cpu") };
        Assert.Equal(0, TrainingApp.Run(full, console));
    }

    private float[] RunUnderMpirun(string parameters) =>
        MpirunSample.Train("Artifex.Samples.FashionMnist.dll", Path.Combine(_folder, "mpi"), parameters, "--devices", "4", "--epochs", "1", "--batch-size", "64", "--synthetic", "--train-limit", "1024", "--test-limit", "256");
}
