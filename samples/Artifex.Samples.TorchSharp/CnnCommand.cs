using System.CommandLine;
using Artifex.Samples.FashionMnist;
using Spectre.Console;

namespace Artifex.Samples.TorchSharp;

/// <summary>The command line of the CNN sample: parses the options and runs <see cref="CnnApp"/>.</summary>
public static class CnnCommand
{
    /// <summary>Parses <paramref name="args"/> and runs the sample.</summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="console">Where to write.</param>
    /// <returns>The exit code of <see cref="CnnApp.Run"/>; 2, after one line naming the option, when an argument does not parse.</returns>
    public static int Invoke(string[] args, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(console);
        TrainingOptions defaults = CnnApp.Defaults;
        var devices = new Option<int>("--devices") { Description = "Devices to train on (data parallel): emulated CPU devices, or under --provider mpi all processes' devices.", DefaultValueFactory = _ => defaults.Devices };
        var epochs = new Option<int>("--epochs") { Description = "Epochs.", DefaultValueFactory = _ => defaults.Epochs };
        var batch = new Option<int>("--batch-size") { Description = "Global batch size, divisible by --devices and at most the training images.", DefaultValueFactory = _ => defaults.BatchSize };
        var learningRate = new Option<float>("--learning-rate", "--lr") { Description = "Adam learning rate, above 0 and at most 1.", DefaultValueFactory = _ => defaults.LearningRate };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the parameters (libtorch's generator) and the shuffles.", DefaultValueFactory = _ => defaults.Seed };
        var provider = new Option<string>("--provider") { Description = "cpu; or mpi (under mpirun: --devices in all, split evenly over the processes).", DefaultValueFactory = _ => defaults.Provider };
        var data = new Option<string?>("--data") { Description = $"Folder with the four Fashion-MNIST IDX .gz files (default: {FashionMnistFiles.DebianDirectory}, else synthetic data)." };
        var synthetic = new Option<bool>("--synthetic") { Description = "Train on the built-in synthetic dataset even when Fashion-MNIST is installed." };
        var output = new Option<string>("--output") { Description = "Folder for training.png and summary.json.", DefaultValueFactory = _ => defaults.OutputDirectory };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads per replica (default: the cores divided among the replicas on this machine)." };
        var trainLimit = new Option<int?>("--train-limit") { Description = "Use only the first N training images." };
        var testLimit = new Option<int?>("--test-limit") { Description = "Use only the first N test images." };
        var saveParameters = new Option<string?>("--save-parameters") { Description = "Write the trained parameters to this file (raw float32, parameters in the model's order)." };
        var root = new RootCommand($"Train a {CnnModel.Title} (TorchSharp, Adam) data-parallel through TorchDataParallel on Fashion-MNIST.")
        {
            devices, epochs, batch, learningRate, seed, provider, data, synthetic, output, threads, trainLimit, testLimit, saveParameters,
        };
        root.SetAction(result => CnnApp.Run(
            defaults with
            {
                Devices = result.GetValue(devices),
                Epochs = result.GetValue(epochs),
                BatchSize = result.GetValue(batch),
                LearningRate = result.GetValue(learningRate),
                Seed = result.GetValue(seed),
                Provider = result.GetValue(provider)!,
                DataDirectory = result.GetValue(data),
                Synthetic = result.GetValue(synthetic),
                OutputDirectory = result.GetValue(output)!,
                KernelThreads = result.GetValue(threads) ?? CnnApp.DefaultThreads(result.GetValue(provider)!, result.GetValue(devices)),
                TrainLimit = result.GetValue(trainLimit),
                TestLimit = result.GetValue(testLimit),
                SaveParameters = result.GetValue(saveParameters),
            },
            console));
        return TrainingCommand.InvokeOrRefuse(root, args, console);
    }
}
