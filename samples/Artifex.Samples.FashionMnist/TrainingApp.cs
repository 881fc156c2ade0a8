using System.Globalization;
using System.Text.Json;
using Artifex.Cpu;
using Spectre.Console;

namespace Artifex.Samples.FashionMnist;

/// <summary>The console front end: checks the options, loads the data, trains with a progress bar and a table per epoch, writes the plot and the summary.</summary>
public static class TrainingApp
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    /// <summary>The exit code of a run stopped because the loss or the parameters stopped being finite numbers.</summary>
    public const int DivergedExitCode = 3;

    /// <summary>The largest <see cref="TrainingOptions.LearningRate"/> accepted: Adam moves each parameter by up to the learning rate per step, so more only diverges.</summary>
    public const float MaxLearningRate = 1f;

    /// <summary>Runs the sample.</summary>
    /// <param name="options">The options.</param>
    /// <param name="console">Where to write.</param>
    /// <returns>
    /// The exit code: 0; 1 for bad data files (or replicas that differ, or leaked buffers); 2 for bad options, found before
    /// any data is read or training starts (those that depend on the data, after it is read); <see cref="DivergedExitCode"/>
    /// when training diverged (a loss or a parameter became infinite or NaN) and was stopped. Every error is one line
    /// beginning <c>error:</c>.
    /// </returns>
    public static int Run(TrainingOptions options, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(console);
        string? problem = Validate(options) ?? CheckOutputs(options);
        if (problem is not null)
        {
            return Fail(console, problem, 2);
        }

        Dataset data;
        try
        {
            // Under mpirun every process loads the data; only process 0 reports (the runtime started while validating).
            data = LoadData(options, string.Equals(options.Provider, "mpi", StringComparison.Ordinal) && Mpi.MpiRuntime.Rank != 0 ? Quiet() : console);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return Fail(console, $"{e.Message} Nothing was written.", 1);
        }

        problem = ValidateAgainst(options, data);
        if (problem is not null)
        {
            return Fail(console, problem, 2);
        }

        using DeviceProvider provider = CreateProvider(options);
        if (provider.ProcessIndex != 0)
        {
            // Every process trains the same replicas; only process 0 reports and writes.
            return TrainQuietly(provider, options, data);
        }

        TrainingSummary summary;
        try
        {
            summary = Train(provider, options, data, console, options.SaveParameters);
        }
        catch (NotFiniteNumberException e)
        {
            return Fail(console, $"{e.Message} Nothing was written.", DivergedExitCode);
        }

        WriteOutputs(summary, options.OutputDirectory, TrainingPlot.MlpModel, console);
        if (provider.LiveBufferCount != 0)
        {
            return Fail(console, $"{provider.LiveBufferCount} device buffers were not freed.", 1);
        }

        return summary.ReplicasIdentical ? 0 : 1;
    }

    /// <summary>
    /// Writes <c>error: message</c> as one line and returns <paramref name="exitCode"/>. The line goes straight to the
    /// console's writer: rendered as markup it would be wrapped at the console width.
    /// </summary>
    /// <param name="console">Where to write.</param>
    /// <param name="message">The problem, one line (line breaks become spaces).</param>
    /// <param name="exitCode">The exit code to return.</param>
    /// <returns><paramref name="exitCode"/>.</returns>
    public static int Fail(IAnsiConsole console, string message, int exitCode)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(message);
        string label = console.Profile.Capabilities.Ansi ? "\u001b[31merror:\u001b[0m" : "error:";
        console.Profile.Out.Writer.WriteLine($"{label} {message.ReplaceLineEndings(" ")}");
        return exitCode;
    }

    /// <summary>
    /// Writes <c>training.png</c> and <c>summary.json</c> into <paramref name="outputDirectory"/> (created if missing) and
    /// prints the final line (test accuracy, throughput, checksum), the optimizer state per device when the summary has it,
    /// and where the files went.
    /// </summary>
    /// <param name="summary">The run's summary.</param>
    /// <param name="outputDirectory">The folder.</param>
    /// <param name="model">The model as the plot's title names it, e.g. <see cref="TrainingPlot.MlpModel"/>.</param>
    /// <param name="console">Where to write.</param>
    public static void WriteOutputs(TrainingSummary summary, string outputDirectory, string model, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(console);
        Directory.CreateDirectory(outputDirectory);
        string plotPath = Path.Combine(outputDirectory, "training.png");
        string summaryPath = Path.Combine(outputDirectory, "summary.json");
        string trainedOn = summary.Data.StartsWith("Fashion-MNIST", StringComparison.Ordinal) ? "Fashion-MNIST" : "synthetic data";
        TrainingPlot.Save(summary.Epochs, trainedOn, summary.Devices, plotPath, model);
        File.WriteAllText(summaryPath, JsonSerializer.Serialize(summary, s_json));
        console.MarkupLineInterpolated(
            CultureInfo.InvariantCulture,
            $"Test accuracy [bold]{summary.TestAccuracy:P2}[/], {summary.SamplesPerSecond:N0} samples/s, parameter checksum [bold]{summary.ParameterChecksum}[/], replicas identical: {summary.ReplicasIdentical}.");
        if (summary.OptimizerStateBytesPerDevice is { } stateBytes)
        {
            console.MarkupLineInterpolated(
                CultureInfo.InvariantCulture,
                $"Optimizer state: {stateBytes:N0} bytes per device ({(summary.Zero == 1 ? $"ZeRO stage 1, sharded over {summary.Devices} devices" : "replicated on every device")}).");
        }

        console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"Wrote {plotPath} and {summaryPath}.");
    }

    /// <summary>Checks, before any data is read, that the run can write its outputs: <c>--output</c> and <c>--save-parameters</c>.</summary>
    /// <param name="options">The options.</param>
    /// <returns>One line naming the option and the path, or null.</returns>
    public static string? CheckOutputs(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return OutputPaths.CheckFolder("--output", options.OutputDirectory, OutputPaths.OutputFiles)
            ?? (options.SaveParameters is { } file ? OutputPaths.CheckFile("--save-parameters", file) : null);
    }

    /// <summary>Checks the options that depend on the data: the batch must fit the training images.</summary>
    /// <param name="options">The options.</param>
    /// <param name="data">The loaded data.</param>
    /// <returns>One line naming the option, or null.</returns>
    public static string? ValidateAgainst(TrainingOptions options, Dataset data)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(data);
        return options.BatchSize > data.TrainCount
            ? $"--batch-size {options.BatchSize} is larger than the {data.TrainCount} training images: pass --batch-size {data.TrainCount} or less."
            : null;
    }

    private static DeviceProvider CreateProvider(TrainingOptions options) => options.Provider switch
    {
        "cuda" => new Cuda.CudaProvider(options.Devices),
        "mpi" => new Mpi.MpiProvider(options.Devices / Mpi.MpiRuntime.Size),
        _ => new CpuProvider(new CpuProviderOptions { DeviceCount = options.Devices, KernelThreads = options.KernelThreads }),
    };

    /// <summary>A console that writes nothing: what the processes other than process 0 report to under mpirun.</summary>
    /// <returns>The console.</returns>
    public static IAnsiConsole Quiet() => AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) });

    private static int TrainQuietly(DeviceProvider provider, TrainingOptions options, Dataset data)
    {
        IAnsiConsole quiet = Quiet();
        try
        {
            TrainingSummary summary = Train(provider, options, data, quiet, saveParameters: null);
            return summary.ReplicasIdentical && provider.LiveBufferCount == 0 ? 0 : 1;
        }
        catch (NotFiniteNumberException)
        {
            // Process 0 diverges at the same step with the same replicas, and reports it.
            return DivergedExitCode;
        }
    }

    private static TrainingSummary Train(DeviceProvider provider, TrainingOptions options, Dataset data, IAnsiConsole console, string? saveParameters)
    {
        using var session = new TrainingSession(provider, options, data);
        console.MarkupLineInterpolated(
            CultureInfo.InvariantCulture,
            $"{(options.Reproducible ? $"Reproducible mode ({ReproducibleSum.Version}, microbatch {options.Microbatch}): " : string.Empty)}{(options.Zero == 1 ? "ZeRO stage 1 (Adam's state sharded over the devices): " : string.Empty)}MLP 784-512-10, Adam lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)}, global batch {options.BatchSize} over {options.Devices} {provider.Platform} device(s) ({options.BatchSize / options.Devices} each), {session.StepsPerEpoch} steps per epoch, seed {options.Seed}.");
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            ShowEpoch(console, epoch, options.Epochs, session.StepsPerEpoch, session.RunEpoch);
        }

        session.WriteTrace();
        if (saveParameters is not null)
        {
            using FileStream file = File.Create(saveParameters);
            foreach (HostArray leaf in session.Trainer.ParametersToHost().Leaves())
            {
                file.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(Enumerable.ToArray(leaf.As<float>().AsTensor()).AsSpan()));
            }
        }

        return session.Summarize();
    }

    /// <summary>Runs one epoch under a progress bar that advances with every step, then prints the epoch's table.</summary>
    /// <param name="console">Where to write.</param>
    /// <param name="epoch">The 1-based epoch.</param>
    /// <param name="epochs">The number of epochs.</param>
    /// <param name="steps">The steps of an epoch (the bar's length).</param>
    /// <param name="runEpoch">Runs the epoch, calling its argument after each step with the 1-based step.</param>
    /// <returns>The epoch's figures.</returns>
    public static EpochResult ShowEpoch(IAnsiConsole console, int epoch, int epochs, int steps, Func<Action<int>?, EpochResult> runEpoch)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(runEpoch);
        EpochResult? result = null;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                ProgressTask task = context.AddTask($"epoch {epoch}/{epochs}", maxValue: steps);
                result = runEpoch(step => task.Value = step);
            });
        console.Write(EpochTable(result!));
        return result!;
    }

    private static Table EpochTable(EpochResult result)
    {
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumns("epoch", "train loss", "train acc", "test loss", "test acc", "samples/s", "seconds");
        table.AddRow(
            result.Epoch.ToString(CultureInfo.InvariantCulture),
            result.TrainLoss.ToString("F4", CultureInfo.InvariantCulture),
            result.TrainAccuracy.ToString("P2", CultureInfo.InvariantCulture),
            result.TestLoss.ToString("F4", CultureInfo.InvariantCulture),
            result.TestAccuracy.ToString("P2", CultureInfo.InvariantCulture),
            result.SamplesPerSecond.ToString("N0", CultureInfo.InvariantCulture),
            result.TrainSeconds.ToString("F2", CultureInfo.InvariantCulture));
        return table;
    }

    /// <summary>
    /// Loads the data the options ask for: the synthetic dataset (<c>--synthetic</c>), the files of <c>--data</c>, Debian's
    /// folder, or — when that is missing — the synthetic dataset after one line saying so; then keeps the first
    /// <c>--train-limit</c> / <c>--test-limit</c> images, and prints one line on what was loaded.
    /// </summary>
    /// <param name="options">The options.</param>
    /// <param name="console">Where to write.</param>
    /// <returns>The data.</returns>
    /// <exception cref="FileNotFoundException">A file is missing; the message names it.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt or truncated; the message names it.</exception>
    public static Dataset LoadData(TrainingOptions options, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(console);
        Dataset data;
        if (options.Synthetic)
        {
            data = SyntheticDataset.Create(options.Seed, options.TrainLimit ?? 60_000, options.TestLimit ?? 10_000);
        }
        else if (options.DataDirectory is not null)
        {
            data = FashionMnistFiles.Load(options.DataDirectory);
        }
        else if (FashionMnistFiles.Exist(FashionMnistFiles.DebianDirectory))
        {
            data = FashionMnistFiles.Load(FashionMnistFiles.DebianDirectory);
        }
        else
        {
            console.MarkupLineInterpolated(
                CultureInfo.InvariantCulture,
                $"Fashion-MNIST not found in {FashionMnistFiles.DebianDirectory} (apt-get install dataset-fashion-mnist, or pass --data DIR): training on a synthetic dataset instead.");
            data = SyntheticDataset.Create(options.Seed);
        }

        data = data.Take(options.TrainLimit ?? data.TrainCount, options.TestLimit ?? data.TestCount);
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"Data: {data.Source}, {data.TrainCount:N0} training and {data.TestCount:N0} test images.");
        return data;
    }

    private static int MpiProcessCount()
    {
        Mpi.MpiRuntime.Initialize();
        return Mpi.MpiRuntime.Size;
    }

    /// <summary>
    /// Checks the options that do not depend on the data (provider, devices, epochs, batch, learning rate, threads, limits,
    /// data source, ZeRO stage, reproducible mode). Under <c>--provider mpi</c> it starts the MPI runtime to count the processes.
    /// </summary>
    /// <param name="o">The options.</param>
    /// <returns>One line naming the option and the value, or null.</returns>
    public static string? Validate(TrainingOptions o) => o switch
    {
        null => throw new ArgumentNullException(nameof(o)),
        { Provider: not ("cpu" or "cuda" or "mpi") } => $"--provider must be cpu, cuda or mpi, not '{o.Provider}'.",
        { Provider: "mpi" } when !Mpi.MpiRuntime.IsAvailable => $"--provider mpi: OpenMPI is not available here: {Mpi.MpiRuntime.UnavailableReason}",
        { Provider: "mpi" } when o.Devices % MpiProcessCount() != 0 =>
            $"--provider mpi --devices {o.Devices}: the {MpiProcessCount()} processes must own the same number of devices each.",
        { Provider: "cuda" } when Cuda.CudaServiceCollectionExtensions.UnavailableReason is { } reason => $"--provider cuda: no usable GPU here: {reason}",
        { Provider: "cuda" } when o.Devices > Cuda.CudaProbe.Current.DeviceCount =>
            $"--provider cuda --devices {o.Devices}: this machine has {Cuda.CudaProbe.Current.DeviceCount} GPU(s); pass --devices {Cuda.CudaProbe.Current.DeviceCount} or fewer.",
        { Devices: < 1 } => $"--devices must be at least 1, not {o.Devices}.",
        { Epochs: < 1 } => $"--epochs must be at least 1, not {o.Epochs}.",
        { BatchSize: < 1 } => $"--batch-size must be at least 1, not {o.BatchSize}.",
        _ when o.BatchSize % o.Devices != 0 => $"--batch-size {o.BatchSize} is not divisible by --devices {o.Devices}: every device takes the same share of a batch.",
        _ when !float.IsFinite(o.LearningRate) || o.LearningRate <= 0 || o.LearningRate > MaxLearningRate =>
            string.Create(CultureInfo.InvariantCulture, $"--learning-rate must be a number above 0 and at most {MaxLearningRate}, not {o.LearningRate}."),
        { KernelThreads: < 1 } => $"--threads must be at least 1, not {o.KernelThreads}.",
        { TrainLimit: < 1 } or { TestLimit: < 1 } => "--train-limit and --test-limit must be at least 1.",
        { Synthetic: true, DataDirectory: not null } => "--synthetic and --data exclude each other.",
        { Compression: not ("none" or "half") } => $"--compression must be none or half, not '{o.Compression}'.",
        { Provider: "mpi", Compression: "half" } when MpiProcessCount() > 1 =>
            $"--compression half cannot run over {MpiProcessCount()} MPI processes: MPI has no Half reduction; use --compression none.",
        { Reproducible: true, Compression: "half" } => "--compression half and --reproducible exclude each other: reproducible mode sends exact sums.",
        { Zero: not (0 or 1) } => $"--zero must be 0 or 1, not {o.Zero}.",
        { Zero: 1, Compression: "half" } => "--zero 1 and --compression half exclude each other: ZeRO reduce-scatters Single gradients.",
        { Zero: 1, Reproducible: true } => "--zero 1 and --reproducible exclude each other: reproducible mode reduces exact microbatch sums, not ZeRO's rank-order reduce-scatter.",
        { Reproducible: true, Microbatch: < 1 } => $"--microbatch must be at least 1, not {o.Microbatch}.",
        { Reproducible: true } when o.BatchSize / o.Devices % o.Microbatch != 0 =>
            $"--microbatch {o.Microbatch} does not divide the {o.BatchSize / o.Devices} rows each device gets: reproducible mode needs whole microbatches.",
        _ => null,
    };
}
