using System.IO.Compression;
using System.Text.Json;
using Artifex.Samples.FashionMnist;
using Spectre.Console;

namespace Artifex.Samples.Tests;

/// <summary>The command-line front end: outputs, option errors, and data errors that name the file and write nothing.</summary>
public sealed class TrainingAppTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "artifex-sample-" + Guid.NewGuid().ToString("N"));

    public TrainingAppTests() => Directory.CreateDirectory(_folder);

    [Fact]
    public void Run_Synthetic_WritesPlotAndSummary()
    {
        string output = Path.Combine(_folder, "out");
        var options = new TrainingOptions { Synthetic = true, Devices = 2, Epochs = 2, BatchSize = 32, TrainLimit = 320, TestLimit = 64, OutputDirectory = output };
        (int code, string text) = Run(options);
        Assert.Equal(0, code);
        Assert.Contains("synthetic", text, StringComparison.Ordinal);
        Assert.Contains("samples/s", text, StringComparison.Ordinal);
        byte[] png = File.ReadAllBytes(Path.Combine(output, "training.png"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.Equal(2, summary.RootElement.GetProperty("epochs").GetArrayLength());
        Assert.Equal(20, summary.RootElement.GetProperty("steps").GetInt32());
        Assert.Equal(16, summary.RootElement.GetProperty("parameter_checksum").GetString()!.Length);
        Assert.True(summary.RootElement.GetProperty("replicas_identical").GetBoolean());
        Assert.Equal("cpu", summary.RootElement.GetProperty("provider").GetString());
        Assert.Equal(1, summary.RootElement.GetProperty("processes").GetInt32());
    }

    [Theory]
    [InlineData(3, 32, "--batch-size 32 is not divisible by --devices 3")]
    [InlineData(0, 32, "--devices must be at least 1")]
    public void Run_BadOptions_ExitTwoWithTheReason(int devices, int batch, string expected)
    {
        string output = Path.Combine(_folder, "never");
        (int code, string text) = Run(new TrainingOptions { Synthetic = true, Devices = devices, BatchSize = batch, OutputDirectory = output });
        Assert.Equal(2, code);
        Assert.Contains(expected, text, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Run_CudaProviderWithoutGpu_SaysWhyAndWritesNothing()
    {
        Assert.SkipWhen(Cuda.CudaProbe.Current.IsAvailable, "A GPU is usable here.");
        string output = Path.Combine(_folder, "never");
        (int code, string text) = Run(new TrainingOptions { Provider = "cuda", OutputDirectory = output });
        Assert.Equal(2, code);
        Assert.Contains("--provider cuda: no usable GPU here", text, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Run_TruncatedImageFile_NamesItAndWritesNothing()
    {
        WriteDataset(_folder, truncateTrainImages: true);
        string output = Path.Combine(_folder, "out");
        (int code, string text) = Run(new TrainingOptions { DataDirectory = _folder, OutputDirectory = output });
        Assert.Equal(1, code);
        Assert.Contains("train-images-idx3-ubyte.gz", text, StringComparison.Ordinal);
        Assert.Contains("truncated", text, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Run_MissingFile_NamesIt()
    {
        WriteDataset(_folder, truncateTrainImages: false);
        File.Delete(Path.Combine(_folder, "t10k-labels-idx1-ubyte.gz"));
        (int code, string text) = Run(new TrainingOptions { DataDirectory = _folder, OutputDirectory = Path.Combine(_folder, "out") });
        Assert.Equal(1, code);
        Assert.Contains("t10k-labels-idx1-ubyte.gz", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ValidFiles_RoundTrip()
    {
        WriteDataset(_folder, truncateTrainImages: false);
        Dataset data = FashionMnistFiles.Load(_folder);
        Assert.Equal(4, data.TrainCount);
        Assert.Equal(2, data.TestCount);
        Assert.Equal([0, 1, 2, 3], data.TrainLabels);
        Assert.Equal((byte)3, data.TrainImages[(3 * Dataset.Features) + 5]);
    }

    [Fact]
    public void ReadImages_NotGzip_NamesTheFile()
    {
        string path = Path.Combine(_folder, "x-images-idx3-ubyte.gz");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5]);
        InvalidDataException e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.StartsWith(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadLabels_WrongMagic_NamesTheFile()
    {
        string path = Path.Combine(_folder, "x-labels-idx1-ubyte.gz");
        WriteGzip(path, [0, 0, 8, 3, 0, 0, 0, 0]);
        InvalidDataException e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(path));
        Assert.Contains("magic", e.Message, StringComparison.Ordinal);
        Assert.StartsWith(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadLabels_LabelAboveNine_NamesTheFileAndIndex()
    {
        string path = Path.Combine(_folder, "x-labels-idx1-ubyte.gz");
        WriteGzip(path, [0, 0, 8, 1, 0, 0, 0, 2, 4, 10]);
        InvalidDataException e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(path));
        Assert.Contains("label 1 is 10", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_BatchLargerThanTrainingSet_OneLineExitTwoBeforeTraining()
    {
        string output = Path.Combine(_folder, "never");
        (int code, string[] lines) = RunLines(new TrainingOptions { Synthetic = true, Devices = 2, BatchSize = 128, TrainLimit = 64, TestLimit = 16, OutputDirectory = output });
        Assert.Equal(2, code);
        string error = Assert.Single(lines, IsError);
        Assert.Contains("--batch-size 128 is larger than the 64 training images", error, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Contains("steps per epoch", StringComparison.Ordinal));
        Assert.False(Directory.Exists(output));
    }

    [Theory]
    [InlineData(1e30f)]
    [InlineData(1.5f)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NaN)]
    [InlineData(0f)]
    [InlineData(-0.001f)]
    public void Run_LearningRateOutOfRange_OneLineExitTwo(float learningRate)
    {
        string output = Path.Combine(_folder, "never");
        (int code, string[] lines) = RunLines(new TrainingOptions { Synthetic = true, LearningRate = learningRate, TrainLimit = 64, TestLimit = 16, OutputDirectory = output });
        Assert.Equal(2, code);
        string error = Assert.Single(lines, IsError);
        Assert.Contains("--learning-rate must be a number above 0 and at most 1, not ", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Theory]
    [InlineData("--batch-size", "abc")]
    [InlineData("--lr", "1e30")]
    [InlineData("--devices", "9999999999")]
    public void Invoke_BadValue_OneLineNamingTheOptionExitTwo(string option, string value)
    {
        string output = Path.Combine(_folder, "never");
        using var writer = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
        int code = TrainingCommand.Invoke(["--synthetic", "--output", output, option, value], console);
        Assert.Equal(2, code);
        string[] lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string error = Assert.Single(lines);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains(option is "--lr" ? "--learning-rate" : option, error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    /// <summary>The command line end to end: <c>--zero 1</c> trains to the same parameter bits with 1/N of Adam's state per device.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Invoke_Zero1_SameChecksumAsWithout_StateDividedByTheDevices(int devices)
    {
        (string replicatedChecksum, long replicatedBytes, string replicatedText) = InvokeShort(devices, "0");
        (string zeroChecksum, long zeroBytes, string zeroText) = InvokeShort(devices, "1");
        Assert.Equal(replicatedChecksum, zeroChecksum);
        Assert.Equal(2L * sizeof(float) * MlpParameters.Count, replicatedBytes);
        Assert.Equal(2L * sizeof(float) * ((MlpParameters.Count + devices - 1) / devices), zeroBytes);
        Assert.Contains(FormattableString.Invariant($"Optimizer state: {replicatedBytes:N0} bytes per device (replicated on every device)."), replicatedText, StringComparison.Ordinal);
        Assert.Contains(FormattableString.Invariant($"Optimizer state: {zeroBytes:N0} bytes per device (ZeRO stage 1, sharded over {devices} devices)."), zeroText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--zero 2", "--zero must be 0 or 1, not 2.")]
    [InlineData("--zero -1", "--zero must be 0 or 1, not -1.")]
    [InlineData("--zero one", "--zero")]
    [InlineData("--zero 1 --reproducible", "--zero 1 and --reproducible exclude each other")]
    public void Invoke_BadZero_OneLineNamingTheOptionExitTwo(string arguments, string expected)
    {
        string output = Path.Combine(_folder, "never");
        using var writer = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
        int code = TrainingCommand.Invoke(["--synthetic", "--output", output, .. arguments.Split(' ')], console);
        Assert.Equal(2, code);
        string error = Assert.Single(writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Session_DivergingLearningRate_StopsWithNotFiniteNumber()
    {
        // The app refuses such a rate up front; the session itself must still stop instead of training on infinities.
        var options = new TrainingOptions { Devices = 2, Epochs = 2, BatchSize = 32, LearningRate = 1e30f, TrainLimit = 128, TestLimit = 32 };
        Dataset data = SyntheticDataset.Create(options.Seed, 128, 32);
        using var provider = new Artifex.Cpu.CpuProvider(2);
        NotFiniteNumberException e = Assert.Throws<NotFiniteNumberException>(() => TrainingSession.Run(provider, options, data));
        Assert.StartsWith("Training diverged at epoch 1, step ", e.Message, StringComparison.Ordinal);
        Assert.Contains("--learning-rate", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(double.IsFinite(e.OffendingNumber));
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void Run_OutputIsAFile_OneLineExitTwoBeforeTraining()
    {
        string output = Path.Combine(_folder, "taken");
        File.WriteAllText(output, "not a folder");
        (int code, string[] lines) = RunLines(new TrainingOptions { Synthetic = true, Epochs = 1, BatchSize = 32, TrainLimit = 64, TestLimit = 16, OutputDirectory = output });
        Assert.Equal(2, code);
        string error = Assert.Single(lines, IsError);
        Assert.Contains($"--output '{output}': is a file", error, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.StartsWith("Data:", StringComparison.Ordinal));
    }

    [Fact]
    public void Run_OutputUnderAFile_OneLineExitTwoBeforeTraining()
    {
        string file = Path.Combine(_folder, "taken");
        File.WriteAllText(file, "not a folder");
        string output = Path.Combine(file, "out");
        (int code, string[] lines) = RunLines(new TrainingOptions { Synthetic = true, Epochs = 1, BatchSize = 32, TrainLimit = 64, TestLimit = 16, OutputDirectory = output });
        Assert.Equal(2, code);
        Assert.Contains($"--output '{output}': '{file}' is a file", Assert.Single(lines, IsError), StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.StartsWith("Data:", StringComparison.Ordinal));
    }

    [Fact]
    public void Run_SummaryNameTakenByAFolder_OneLineExitTwoBeforeTraining()
    {
        string output = Path.Combine(_folder, "out");
        Directory.CreateDirectory(Path.Combine(output, "summary.json"));
        (int code, string[] lines) = RunLines(new TrainingOptions { Synthetic = true, Epochs = 1, BatchSize = 32, TrainLimit = 64, TestLimit = 16, OutputDirectory = output });
        Assert.Equal(2, code);
        Assert.Contains("'summary.json' there is a folder", Assert.Single(lines, IsError), StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.StartsWith("Data:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Run_SaveParametersNotWritable_OneLineExitTwoBeforeTraining(bool isFolder)
    {
        string output = Path.Combine(_folder, "out");
        string target = isFolder ? _folder : Path.Combine(_folder, "no-such-folder", "parameters.bin");
        (int code, string[] lines) = RunLines(new TrainingOptions { Synthetic = true, Epochs = 1, BatchSize = 32, TrainLimit = 64, TestLimit = 16, OutputDirectory = output, SaveParameters = target });
        Assert.Equal(2, code);
        string error = Assert.Single(lines, IsError);
        Assert.Contains($"--save-parameters '{target}': ", error, StringComparison.Ordinal);
        Assert.Contains(isFolder ? "is a folder; a file is expected" : "does not exist", error, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.StartsWith("Data:", StringComparison.Ordinal));
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Run_SaveParametersInWritableFolder_WritesThem()
    {
        string output = Path.Combine(_folder, "out");
        string parameters = Path.Combine(_folder, "parameters.bin");
        (int code, _) = RunLines(new TrainingOptions { Synthetic = true, Epochs = 1, BatchSize = 32, TrainLimit = 64, TestLimit = 16, OutputDirectory = output, SaveParameters = parameters });
        Assert.Equal(0, code);
        Assert.Equal(((784 * 512) + 512 + (512 * 10) + 10) * sizeof(float), new FileInfo(parameters).Length);
        Assert.Empty(Directory.GetFiles(_folder, ".artifex-write-probe-*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Run_GzipBombImageFile_OneLineNamingItAndWritesNothing()
    {
        WriteDataset(_folder, truncateTrainImages: false);
        string bomb = Path.Combine(_folder, "train-images-idx3-ubyte.gz");
        File.WriteAllBytes(bomb, ImageBomb(images: 4, zeros: 8 << 20));
        string output = Path.Combine(_folder, "out");
        (int code, string[] lines) = RunLines(new TrainingOptions { DataDirectory = _folder, OutputDirectory = output });
        Assert.Equal(1, code);
        string error = Assert.Single(lines, IsError);
        Assert.Contains($"{bomb}: decompresses to more than the {16 + (4 * Dataset.Features)} bytes its header promises", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void ReadImages_GzipBomb_StopsReadingJustPastTheHeadersByteCount()
    {
        byte[] compressed = ImageBomb(images: 2, zeros: 64 << 20);
        using var stream = new CountingStream(new MemoryStream(compressed));
        InvalidDataException e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(stream, "bomb.gz"));
        Assert.StartsWith("bomb.gz: decompresses to more than the 1584 bytes its header promises (2 images)", e.Message, StringComparison.Ordinal);

        // Inflating all 64 MiB would read every compressed byte; stopping after the promised bytes reads a small prefix.
        Assert.True(stream.BytesRead < compressed.Length / 2, $"read {stream.BytesRead} of {compressed.Length} compressed bytes");
    }

    [Fact]
    public void ReadImages_HeaderPromisesMoreThanAnArrayHolds_RefusedBeforeReading()
    {
        string path = Path.Combine(_folder, "x-images-idx3-ubyte.gz");
        WriteGzip(path, [0, 0, 8, 3, 0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 28, 0, 0, 0, 28]);
        InvalidDataException e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains("the header promises 2147483647 images", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadLabels_MoreDataThanTheHeaderSays_Refused()
    {
        string path = Path.Combine(_folder, "x-labels-idx1-ubyte.gz");
        WriteGzip(path, [0, 0, 8, 1, 0, 0, 0, 2, 4, 5, 6]);
        InvalidDataException e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(path));
        Assert.Contains("decompresses to more than the 10 bytes its header promises (2 labels)", e.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static (int Code, string Text) Run(TrainingOptions options)
    {
        using var writer = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
        int code = TrainingApp.Run(options, console);
        return (code, writer.ToString().Replace("\n", " ", StringComparison.Ordinal));
    }

    /// <summary>Runs the app and returns its output as lines, as a terminal would show them (no wrapping of errors).</summary>
    private static (int Code, string[] Lines) RunLines(TrainingOptions options)
    {
        using var writer = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
        int code = TrainingApp.Run(options, console);
        return (code, writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>A short synthetic run through the command line (6 steps of 64); returns the summary's checksum and state bytes, and the console text (wrapped lines joined).</summary>
    private (string Checksum, long StateBytes, string Text) InvokeShort(int devices, string zero)
    {
        string output = Path.Combine(_folder, $"zero{zero}-{devices}");
        using var writer = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
        string[] args = ["--synthetic", "--devices", $"{devices}", "--epochs", "1", "--batch-size", "64", "--train-limit", "384", "--test-limit", "64", "--zero", zero, "--output", output];
        Assert.Equal(0, TrainingCommand.Invoke(args, console));
        using JsonDocument summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        Assert.Equal(int.Parse(zero, System.Globalization.CultureInfo.InvariantCulture), summary.RootElement.GetProperty("zero").GetInt32());
        Assert.True(summary.RootElement.GetProperty("replicas_identical").GetBoolean());
        return (
            summary.RootElement.GetProperty("parameter_checksum").GetString()!,
            summary.RootElement.GetProperty("optimizer_state_bytes_per_device").GetInt64(),
            string.Join(' ', writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
    }

    private static bool IsError(string line) => line.StartsWith("error:", StringComparison.Ordinal);

    /// <summary>A valid image header and <paramref name="images"/> images, followed by a long run of zeros the header does not mention.</summary>
    private static byte[] ImageBomb(int images, int zeros)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(Images(images, truncate: false));
            var block = new byte[1 << 20];
            for (int written = 0; written < zeros; written += block.Length)
            {
                gzip.Write(block);
            }
        }

        return compressed.ToArray();
    }

    private static void WriteDataset(string folder, bool truncateTrainImages)
    {
        WriteGzip(Path.Combine(folder, "train-images-idx3-ubyte.gz"), Images(4, truncateTrainImages));
        WriteGzip(Path.Combine(folder, "train-labels-idx1-ubyte.gz"), Labels([0, 1, 2, 3]));
        WriteGzip(Path.Combine(folder, "t10k-images-idx3-ubyte.gz"), Images(2, truncate: false));
        WriteGzip(Path.Combine(folder, "t10k-labels-idx1-ubyte.gz"), Labels([4, 5]));
    }

    private static byte[] Images(int count, bool truncate)
    {
        var bytes = new List<byte> { 0, 0, 8, 3, 0, 0, 0, (byte)count, 0, 0, 0, 28, 0, 0, 0, 28 };
        for (int i = 0; i < count; i++)
        {
            bytes.AddRange(Enumerable.Repeat((byte)i, Dataset.Features));
        }

        return truncate ? [.. bytes.Take(bytes.Count - 100)] : [.. bytes];
    }

    private static byte[] Labels(byte[] labels) => [0, 0, 8, 1, 0, 0, 0, (byte)labels.Length, .. labels];

    private static void WriteGzip(string path, byte[] content)
    {
        using FileStream file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(content);
    }
}
