// The TorchSharp peer: the training step of Artifex's Fashion-MNIST sample, written the way a TorchSharp user would.
//
// What it measures
//   An MLP 784 -> 512 (ReLU) -> 10 in float32 with TorchSharp's default initialisation (torch.manual_seed(42)), softmax
//   cross-entropy and Adam (lr 1e-3, default betas and eps). One training step is zero_grad, forward, loss, backward,
//   Adam.step and loss.item(), inside one dispose scope; each step is timed on its own with a Stopwatch.
//
// Usage (the first argument after the mode is the thread count, passed to torch.set_num_threads before anything else):
//   TorchSharpPeer steps <threads> <batch> <steps> [<batch> <steps>]...
//       For each (batch, steps): a fresh model and optimizer, max(20, steps/10) untimed warm-up steps, then `steps`
//       timed ones. Batch i is the contiguous view (narrow) of the training images starting at i*batch mod (n-batch),
//       so a step builds no batch. Prints one line per batch size:
//         threads batch steps med_ms min_ms max_ms p10_ms p90_ms med_samples/s max_samples/s med_GFLOP/s first_step_ms
//       (GFLOP counted as 4*784*512 + 6*512*10 per sample: there is no input gradient). bench/Artifex.Benchmarks
//       (TorchSharpPeer.cs) reads threads, batch and med_ms.
//   TorchSharpPeer train <threads> <epochs> <batch> [seed, default 42]
//       Trains on a shuffled order per epoch (torch.randperm, batches gathered with index_select) and prints the mean
//       training loss and the test accuracy after every epoch: a check that the peer learns what the sample learns.
// Data: the IDX .gz files of Fashion-MNIST under $FASHION_MNIST_DIR (default /usr/share/datasets/fashion-mnist, the
//   Debian package dataset-fashion-mnist). Without them `steps` times random data of the same shape and says so.
//
// Build and run: this folder is copied to a temporary directory and built there by bench/Artifex.Benchmarks; by hand:
//   dotnet build -c Release bench/peers/torchsharp
//   python3 bench/peers/torchsharp/weaken_glibcxx.py bench/peers/torchsharp/bin/Release/net10.0/runtimes/linux-x64/native/libLibTorchSharp.so
//   dotnet bench/peers/torchsharp/bin/Release/net10.0/TorchSharpPeer.dll steps 2 256 300
// (the script lets TorchSharp's native library load on a libstdc++ older than GCC 13's; see its header).
//
// Part of Artifex.NET; MIT licence (see LICENSE at the repository root).
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchSharpPeer;

internal static class Program
{
    private const int Pixels = 28 * 28;
    private const int Hidden = 512;
    private const int Classes = 10;

    /// <summary>Model FLOP per sample and step: forward 2·784·512 + 2·512·10, backward dW1 2·784·512, dH and dW2 2·512·10 each.</summary>
    private const double FlopPerSample = 4.0 * Pixels * Hidden + 6.0 * Hidden * Classes;

    private static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        if (args.Length < 2 || !int.TryParse(args[1], out int threads) || threads < 1)
        {
            Console.Error.WriteLine("usage: TorchSharpPeer steps <threads> <batch> <steps> [<batch> <steps>]... | train <threads> <epochs> <batch> [seed]");
            return 2;
        }

        long loadStart = Stopwatch.GetTimestamp();
        torch.set_num_threads(threads);
        Console.WriteLine($"# TorchSharp {typeof(torch).Assembly.GetName().Version}, .NET {Environment.Version}; torch threads {torch.get_num_threads()}; " +
                          $"OMP_NUM_THREADS={Environment.GetEnvironmentVariable("OMP_NUM_THREADS") ?? "(unset)"}; " +
                          $"GLIBC_TUNABLES={Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? "(unset)"}; " +
                          $"libtorch load {Stopwatch.GetElapsedTime(loadStart).TotalMilliseconds:F0} ms");
        int[] numbers = [.. args.Skip(2).Select(int.Parse)];
        switch (args[0])
        {
            case "steps" when numbers.Length >= 2 && numbers.Length % 2 == 0:
                Steps(threads, numbers);
                return 0;
            case "train" when numbers.Length is 2 or 3:
                Train(numbers[0], numbers[1], numbers.Length == 3 ? numbers[2] : 42);
                return 0;
            default:
                Console.Error.WriteLine($"bad arguments for mode '{args[0]}'");
                return 2;
        }
    }

    private static nn.Module<Tensor, Tensor> NewModel() =>
        nn.Sequential(("fc1", nn.Linear(Pixels, Hidden)), ("relu", nn.ReLU()), ("fc2", nn.Linear(Hidden, Classes)));

    /// <summary>One training step; returns the loss (reading it also waits for the step to finish).</summary>
    private static float Step(nn.Module<Tensor, Tensor> model, optim.Optimizer adam, Tensor images, Tensor labels)
    {
        using DisposeScope scope = torch.NewDisposeScope();
        adam.zero_grad();
        Tensor loss = nn.functional.cross_entropy(model.forward(images), labels);
        loss.backward();
        adam.step();
        return loss.item<float>();
    }

    private static void Steps(int threads, int[] plan)
    {
        (Tensor images, Tensor labels, string source) = LoadOrSynthesize("train");
        long rows = images.shape[0];
        Console.WriteLine($"# data: {source}, {rows} rows");
        Console.WriteLine("threads batch steps   med_ms   min_ms   max_ms   p10_ms   p90_ms  med_samples/s  max_samples/s  med_GFLOP/s first_step_ms");
        for (int p = 0; p < plan.Length; p += 2)
        {
            int batch = plan[p], timed = plan[p + 1], warmup = Math.Max(20, timed / 10);
            torch.manual_seed(42);
            using nn.Module<Tensor, Tensor> model = NewModel();
            using optim.Optimizer adam = optim.Adam(model.parameters(), lr: 1e-3);
            double[] ms = new double[timed];
            double first = 0;
            for (int i = 0; i < warmup + timed; i++)
            {
                long offset = (long)i * batch % (rows - batch);
                using Tensor x = images.narrow(0, offset, batch);
                using Tensor y = labels.narrow(0, offset, batch);
                long start = Stopwatch.GetTimestamp();
                Step(model, adam, x, y);
                double elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (i == 0)
                {
                    first = elapsed;
                }

                if (i >= warmup)
                {
                    ms[i - warmup] = elapsed;
                }
            }

            Array.Sort(ms);
            double median = Quantile(ms, 0.5);
            Console.WriteLine($"{threads,7} {batch,5} {timed,5} {median,8:F3} {ms[0],8:F3} {ms[^1],8:F3} {Quantile(ms, 0.1),8:F3} {Quantile(ms, 0.9),8:F3} " +
                              $"{batch * 1e3 / median,14:F0} {batch * 1e3 / ms[0],14:F0} {FlopPerSample * batch / median / 1e6,12:F1} {first,13:F1}");
        }
    }

    private static void Train(int epochs, int batch, int seed)
    {
        (Tensor images, Tensor labels, string source) = LoadOrSynthesize("train");
        (Tensor testImages, Tensor testLabels, _) = LoadOrSynthesize("t10k");
        torch.manual_seed(seed);
        using nn.Module<Tensor, Tensor> model = NewModel();
        using optim.Optimizer adam = optim.Adam(model.parameters(), lr: 1e-3);
        long rows = images.shape[0];
        Console.WriteLine($"# data: {source}; {epochs} epochs, batch {batch}, seed {seed}");
        Console.WriteLine("epoch  train_loss  test_acc  epoch_s");
        long total = Stopwatch.GetTimestamp();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            long start = Stopwatch.GetTimestamp();
            model.train();
            using Tensor order = torch.randperm(rows);
            double lossSum = 0;
            int batches = 0;
            for (long offset = 0; offset < rows; offset += batch)
            {
                using DisposeScope scope = torch.NewDisposeScope();
                Tensor picked = order.narrow(0, offset, Math.Min(batch, rows - offset));
                lossSum += Step(model, adam, images.index_select(0, picked), labels.index_select(0, picked));
                batches++;
            }

            double accuracy = Accuracy(model, testImages, testLabels);
            Console.WriteLine($"{epoch,5} {lossSum / batches,11:F5} {accuracy * 100,8:F2}% {Stopwatch.GetElapsedTime(start).TotalSeconds,8:F2}");
        }

        Console.WriteLine($"# total {Stopwatch.GetElapsedTime(total).TotalSeconds:F2} s");
    }

    private static double Accuracy(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels)
    {
        using DisposeScope scope = torch.NewDisposeScope();
        using IDisposable noGrad = torch.no_grad();
        model.eval();
        return model.forward(images).argmax(1).eq(labels).sum().ToInt64() / (double)images.shape[0];
    }

    /// <summary>Linear interpolation between the closest ranks of sorted values.</summary>
    private static double Quantile(double[] sorted, double q)
    {
        double rank = q * (sorted.Length - 1);
        int below = (int)Math.Floor(rank), above = (int)Math.Ceiling(rank);
        return sorted[below] + ((sorted[above] - sorted[below]) * (rank - below));
    }

    /// <summary>Images as float32 in [0, 1] (rows × 784) and labels as int64, from the IDX files or, without them, random.</summary>
    private static (Tensor Images, Tensor Labels, string Source) LoadOrSynthesize(string set)
    {
        string directory = Environment.GetEnvironmentVariable("FASHION_MNIST_DIR") ?? "/usr/share/datasets/fashion-mnist";
        string imageFile = Path.Combine(directory, $"{set}-images-idx3-ubyte.gz");
        string labelFile = Path.Combine(directory, $"{set}-labels-idx1-ubyte.gz");
        if (File.Exists(imageFile) && File.Exists(labelFile))
        {
            (byte[] pixels, int[] imageShape) = ReadIdx(imageFile, dimensions: 3);
            (byte[] classes, int[] labelShape) = ReadIdx(labelFile, dimensions: 1);
            if (imageShape[0] != labelShape[0] || imageShape[1] * imageShape[2] != Pixels)
            {
                throw new InvalidDataException($"{directory}: {set} images and labels do not match");
            }

            using Tensor bytes = torch.tensor(pixels, [imageShape[0], Pixels]);
            using Tensor classBytes = torch.tensor(classes, [labelShape[0]]);
            return (bytes.to_type(ScalarType.Float32).div_(255f), classBytes.to_type(ScalarType.Int64), $"Fashion-MNIST {set} ({directory})");
        }

        long rows = set == "train" ? 60000 : 10000;
        torch.manual_seed(7);
        return (torch.rand(rows, Pixels), torch.randint(0, Classes, [rows], ScalarType.Int64), $"random {set} data ({directory} has no Fashion-MNIST)");
    }

    /// <summary>An IDX file (big-endian magic 0x0000_08_DD with DD dimensions, DD big-endian int32 sizes, then unsigned bytes), gzip-compressed.</summary>
    private static (byte[] Data, int[] Shape) ReadIdx(string path, int dimensions)
    {
        using var input = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        byte[] header = new byte[4 * (1 + dimensions)];
        input.ReadExactly(header);
        if (BinaryPrimitives.ReadInt32BigEndian(header) != (0x800 | dimensions))
        {
            throw new InvalidDataException($"{path}: not an IDX file of unsigned bytes with {dimensions} dimension(s)");
        }

        int[] shape = [.. Enumerable.Range(1, dimensions).Select(d => BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4 * d)))];
        byte[] data = new byte[shape.Aggregate(1L, (product, size) => product * size)];
        input.ReadExactly(data);
        return (data, shape);
    }
}
