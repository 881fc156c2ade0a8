using System.Text.Json;
using Artifex.Samples.FashionMnist;
using Artifex.Testing;
using Spectre.Console;

namespace Artifex.Samples.TorchSharp.Tests;

/// <summary>The CNN sample's front end: a short run's outputs, and bad options refused in one line before training.</summary>
public sealed class CnnAppTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "artifex-cnn-sample-" + Guid.NewGuid().ToString("N"));

    public CnnAppTests() => Directory.CreateDirectory(_folder);

    [Fact]
    public void Run_Synthetic_LearnsAboveChance_WritesPlotAndSummary()
    {
        LibTorch.Require();
        string output = Path.Combine(_folder, "out");
        TrainingOptions options = CnnApp.Defaults with
        {
            Synthetic = true,
            Devices = 2,
            Epochs = 2,
            BatchSize = 64,
            LearningRate = 0.003f,
            TrainLimit = 2048,
            TestLimit = 256,
            OutputDirectory = output,
        };
        (int code, string[] lines) = Run(options);
        Assert.True(code == 0, string.Join('\n', lines));
        Assert.Contains(lines, static l => l.StartsWith("Data: synthetic", StringComparison.Ordinal));
        Assert.Contains(lines, static l => l.StartsWith("Test accuracy ", StringComparison.Ordinal) && l.Contains("samples/s", StringComparison.Ordinal));

        byte[] png = File.ReadAllBytes(Path.Combine(output, "training.png"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        JsonElement root = summary.RootElement;
        Assert.Equal("cpu", root.GetProperty("provider").GetString());
        Assert.Equal(1, root.GetProperty("processes").GetInt32());
        Assert.Equal(2, root.GetProperty("devices").GetInt32());
        Assert.Equal(64, root.GetProperty("batch_size").GetInt32());
        Assert.Equal(2 * (2048 / 64), root.GetProperty("steps").GetInt32());
        Assert.Equal(2, root.GetProperty("epochs").GetArrayLength());
        Assert.Equal(16, root.GetProperty("parameter_checksum").GetString()!.Length);
        Assert.True(root.GetProperty("replicas_identical").GetBoolean());
        Assert.True(root.GetProperty("samples_per_second").GetDouble() > 0);

        // Ten classes: chance is 10 %.
        double accuracy = root.GetProperty("test_accuracy").GetDouble();
        Assert.True(accuracy > 0.2, $"test accuracy {accuracy:P1} is not clearly above chance (10 %)");
    }

    [Theory]
    [InlineData("--batch-size abc", "--batch-size")]
    [InlineData("--provider cuda", "--provider must be cpu or mpi, not 'cuda'")]
    [InlineData("--devices 3", "--batch-size 256 is not divisible by --devices 3")]
    [InlineData("--devices 0", "--devices must be at least 1, not 0")]
    [InlineData("--lr 2", "--learning-rate must be a number above 0 and at most 1, not 2")]
    [InlineData("--epochs 0", "--epochs must be at least 1, not 0")]
    [InlineData("--threads 0", "--threads must be at least 1, not 0")]
    [InlineData("--train-limit 0", "--train-limit and --test-limit must be at least 1")]
    [InlineData("--no-such-option", "--no-such-option")]
    public void Invoke_BadOption_OneLineExitTwo_NothingWritten(string arguments, string expected)
    {
        string output = Path.Combine(_folder, "never");
        using var writer = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
        int code = CnnCommand.Invoke(["--synthetic", "--output", output, .. arguments.Split(' ')], console);
        Assert.Equal(2, code);
        string error = Assert.Single(writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Run_ReproducibleMode_OneLineExitTwo()
    {
        (int code, string[] lines) = Run(CnnApp.Defaults with { Synthetic = true, Reproducible = true, OutputDirectory = Path.Combine(_folder, "never") });
        Assert.Equal(2, code);
        Assert.StartsWith("error: reproducible mode is the main sample's", Assert.Single(lines), StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Runs the app and returns its output as lines, as a terminal would show them (no wrapping of errors).</summary>
    private static (int Code, string[] Lines) Run(TrainingOptions options)
    {
        using var writer = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Interactive = InteractionSupport.No,
            Ansi = AnsiSupport.No,
        });
        console.Profile.Width = 400;
        int code = CnnApp.Run(options, console);
        return (code, writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}
