using System.Globalization;
using Artifex.Cpu;
using Artifex.Mpi;
using Artifex.Samples.FashionMnist;
using Artifex.TorchSharp;
using Spectre.Console;

namespace Artifex.Samples.TorchSharp;

/// <summary>
/// The console front end of the CNN sample. It takes the main sample's options and reuses its checks, data loading,
/// progress display, plot and summary; what differs is the model and the trainer (TorchSharp through
/// <see cref="TorchDataParallel{TModule}"/>).
/// </summary>
public static class CnnApp
{
    /// <summary>
    /// Gets the options of a run with no arguments: 2 devices, batch 256, Adam at 0.001, and an output folder of its own;
    /// 8 epochs, which take about 50 s on an idle 2-core machine (89 % test accuracy on Fashion-MNIST).
    /// </summary>
    public static TrainingOptions Defaults { get; } = new() { Epochs = 8, OutputDirectory = Path.Combine("artifacts", "torchsharp-cnn") };

    /// <summary>Runs the sample.</summary>
    /// <param name="options">
    /// The options. <see cref="TrainingOptions.KernelThreads"/> is libtorch's intra-op threads per replica; the provider is
    /// <c>cpu</c> or <c>mpi</c>; reproducible mode is the main sample's alone.
    /// </param>
    /// <param name="console">Where to write.</param>
    /// <returns>
    /// The exit code, as the main sample's: 0; 1 for a bad data file, libtorch that does not load, or replicas that differ;
    /// 2 for bad options, found before training, with one line <c>error: …</c>; <see cref="TrainingApp.DivergedExitCode"/>
    /// when training diverged.
    /// </returns>
    public static int Run(TrainingOptions options, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(console);
        string? problem = Validate(options) ?? TrainingApp.CheckOutputs(options);
        if (problem is not null)
        {
            return TrainingApp.Fail(console, problem, 2);
        }

        if (TorchSharpEnvironment.UnavailableReason is { } reason)
        {
            return TrainingApp.Fail(console, $"libtorch does not load here: {reason}", 1);
        }

        bool quiet = string.Equals(options.Provider, "mpi", StringComparison.Ordinal) && MpiRuntime.Rank != 0;
        Dataset data;
        try
        {
            // Under mpirun every process loads the data; only process 0 reports.
            data = TrainingApp.LoadData(options, quiet ? TrainingApp.Quiet() : console);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return TrainingApp.Fail(console, $"{e.Message} Nothing was written.", 1);
        }

        problem = TrainingApp.ValidateAgainst(options, data);
        if (problem is not null)
        {
            return TrainingApp.Fail(console, problem, 2);
        }

        using DeviceProvider provider = string.Equals(options.Provider, "mpi", StringComparison.Ordinal)
            ? new MpiProvider(options.Devices / MpiRuntime.Size)
            : new CpuProvider(options.Devices);
        return provider.ProcessIndex == 0 ? TrainAndReport(provider, options, data, console) : TrainQuietly(provider, options, data);
    }

    /// <summary>
    /// libtorch's threads per replica when <c>--threads</c> is not given: the machine's cores divided among the replicas that
    /// run on it at once (this process's, times the processes mpirun started on this machine), at least one.
    /// </summary>
    /// <param name="provider">The provider name.</param>
    /// <param name="devices">The devices over all processes.</param>
    /// <returns>The thread count.</returns>
    public static int DefaultThreads(string provider, int devices)
    {
        int replicasHere = Math.Max(1, devices);
        if (string.Equals(provider, "mpi", StringComparison.Ordinal) && MpiRuntime.IsAvailable)
        {
            MpiRuntime.Initialize();
            replicasHere = Math.Max(1, devices / MpiRuntime.Size) * MpiRuntime.LocalSize;
        }

        return Math.Max(1, Environment.ProcessorCount / replicasHere);
    }

    private static string? Validate(TrainingOptions o) => o switch
    {
        { Provider: not ("cpu" or "mpi") } => $"--provider must be cpu or mpi, not '{o.Provider}' (this sample ships libtorch for the CPU only).",
        { Reproducible: true } => "reproducible mode is the main sample's (Artifex's own kernels); libtorch's sums are not reproducible across device counts.",
        _ => TrainingApp.Validate(o),
    };

    private static int TrainAndReport(DeviceProvider provider, TrainingOptions options, Dataset data, IAnsiConsole console)
    {
        TrainingSummary summary;
        try
        {
            summary = Train(provider, options, data, console, options.SaveParameters);
        }
        catch (NotFiniteNumberException e)
        {
            return TrainingApp.Fail(console, $"{e.Message} Nothing was written.", TrainingApp.DivergedExitCode);
        }

        TrainingApp.WriteOutputs(summary, options.OutputDirectory, CnnModel.Title, console);
        if (provider.LiveBufferCount != 0)
        {
            return TrainingApp.Fail(console, $"{provider.LiveBufferCount} device buffers were not freed.", 1);
        }

        return summary.ReplicasIdentical ? 0 : 1;
    }

    private static int TrainQuietly(DeviceProvider provider, TrainingOptions options, Dataset data)
    {
        try
        {
            TrainingSummary summary = Train(provider, options, data, TrainingApp.Quiet(), saveParameters: null);
            return summary.ReplicasIdentical && provider.LiveBufferCount == 0 ? 0 : 1;
        }
        catch (NotFiniteNumberException)
        {
            // Process 0 sees the same combined losses, stops at the same epoch, and reports it.
            return TrainingApp.DivergedExitCode;
        }
    }

    private static TrainingSummary Train(DeviceProvider provider, TrainingOptions options, Dataset data, IAnsiConsole console, string? saveParameters)
    {
        using var session = new CnnSession(provider, options, data);
        int each = options.BatchSize / options.Devices;
        console.MarkupLineInterpolated(
            CultureInfo.InvariantCulture,
            $"{CnnModel.Title} (TorchSharp), Adam lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)}, global batch {options.BatchSize} over {options.Devices} {provider.Platform} device(s) in {provider.ProcessCount} process(es) ({each} each, {options.KernelThreads} libtorch thread(s) each), {session.StepsPerEpoch} steps per epoch, seed {options.Seed}.");
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            TrainingApp.ShowEpoch(console, epoch, options.Epochs, session.StepsPerEpoch, session.RunEpoch);
        }

        if (saveParameters is not null)
        {
            session.SaveParameters(saveParameters);
        }

        return session.Summarize();
    }
}
