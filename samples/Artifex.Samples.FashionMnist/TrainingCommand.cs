using System.CommandLine;
using Spectre.Console;

namespace Artifex.Samples.FashionMnist;

/// <summary>The command line of the sample: parses the options and runs <see cref="TrainingApp"/>.</summary>
public static class TrainingCommand
{
    /// <summary>Parses <paramref name="args"/> and runs the sample.</summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="console">Where to write.</param>
    /// <returns>The exit code of <see cref="TrainingApp.Run"/>; 2, after one line naming the option, when an argument does not parse.</returns>
    public static int Invoke(string[] args, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(console);
        var defaults = new TrainingOptions();
        var devices = new Option<int>("--devices") { Description = "Emulated devices to train on (data parallel).", DefaultValueFactory = _ => defaults.Devices };
        var epochs = new Option<int>("--epochs") { Description = "Epochs.", DefaultValueFactory = _ => defaults.Epochs };
        var batch = new Option<int>("--batch-size") { Description = "Global batch size, divisible by --devices and at most the training images.", DefaultValueFactory = _ => defaults.BatchSize };
        var learningRate = new Option<float>("--learning-rate", "--lr") { Description = "Adam learning rate, above 0 and at most 1.", DefaultValueFactory = _ => defaults.LearningRate };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the parameters and the shuffles.", DefaultValueFactory = _ => defaults.Seed };
        var provider = new Option<string>("--provider") { Description = "cpu; cuda (NVIDIA GPUs: one device per GPU); or mpi (under mpirun: --devices in all, split evenly over the processes).", DefaultValueFactory = _ => defaults.Provider };
        var data = new Option<string?>("--data") { Description = $"Folder with the four Fashion-MNIST IDX .gz files (default: {FashionMnistFiles.DebianDirectory}, else synthetic data)." };
        var synthetic = new Option<bool>("--synthetic") { Description = "Train on the built-in synthetic dataset even when Fashion-MNIST is installed." };
        var reproducible = new Option<bool>("--reproducible") { Description = "Reproducible mode: the same parameter bits for any --devices (microbatch gradients summed exactly)." };
        var microbatch = new Option<int>("--microbatch") { Description = "Microbatch size of --reproducible; must divide batch-size / devices.", DefaultValueFactory = _ => defaults.Microbatch };
        var zero = new Option<int>("--zero") { Description = "ZeRO stage: 0 replicates Adam's state on every device; 1 shards it over the devices (1/N of it each, the same parameter bits).", DefaultValueFactory = _ => defaults.Zero };
        var output = new Option<string>("--output") { Description = "Folder for training.png and summary.json.", DefaultValueFactory = _ => defaults.OutputDirectory };
        var threads = new Option<int>("--threads") { Description = "Threads one device's GEMM may use (results do not change).", DefaultValueFactory = _ => defaults.KernelThreads };
        var trainLimit = new Option<int?>("--train-limit") { Description = "Use only the first N training images." };
        var testLimit = new Option<int?>("--test-limit") { Description = "Use only the first N test images." };
        var saveParameters = new Option<string?>("--save-parameters") { Description = "Write the trained parameters to this file (raw float32, leaves in tree order)." };
        var compression = new Option<string>("--compression") { Description = "How gradients travel: none, or half (Half precision, half the bytes; as DDP's fp16 hook).", DefaultValueFactory = _ => defaults.Compression };
        var trace = new Option<string?>("--trace") { Description = "Write a Chrome-trace timeline of each device's steps to this file (open in https://ui.perfetto.dev)." };
        var root = new RootCommand("Train an MLP (784-512-10, softmax cross-entropy, Adam) data-parallel over emulated CPU devices on Fashion-MNIST.")
        {
            devices, epochs, batch, learningRate, seed, provider, data, synthetic, reproducible, microbatch, zero, output, threads, trainLimit, testLimit, saveParameters, compression, trace,
        };
        root.SetAction(result => TrainingApp.Run(
            new TrainingOptions
            {
                Devices = result.GetValue(devices),
                Epochs = result.GetValue(epochs),
                BatchSize = result.GetValue(batch),
                LearningRate = result.GetValue(learningRate),
                Seed = result.GetValue(seed),
                Provider = result.GetValue(provider)!,
                DataDirectory = result.GetValue(data),
                Synthetic = result.GetValue(synthetic),
                Reproducible = result.GetValue(reproducible),
                Microbatch = result.GetValue(microbatch),
                Zero = result.GetValue(zero),
                OutputDirectory = result.GetValue(output)!,
                KernelThreads = result.GetValue(threads),
                TrainLimit = result.GetValue(trainLimit),
                TestLimit = result.GetValue(testLimit),
                SaveParameters = result.GetValue(saveParameters),
                Compression = result.GetValue(compression)!,
                TracePath = result.GetValue(trace),
            },
            console));
        return InvokeOrRefuse(root, args, console);
    }

    /// <summary>Runs a command line, or refuses it in one line with exit code 2 when it does not parse.</summary>
    /// <param name="root">The command.</param>
    /// <param name="args">The arguments.</param>
    /// <param name="console">Where a refusal goes.</param>
    /// <returns>The command's exit code, or 2.</returns>
    public static int InvokeOrRefuse(RootCommand root, string[] args, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(root);
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // System.CommandLine would print every error and the whole help; one line is the sample's rule.
            return TrainingApp.Fail(console, $"{parsed.Errors[0].Message} (--help lists the options)", 2);
        }

        return parsed.Invoke();
    }
}
