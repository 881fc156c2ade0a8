using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Artifex.Samples.FashionMnist;
using Artifex.TorchSharp;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace Artifex.Samples.TorchSharp;

/// <summary>
/// The CNN's epoch loop through <see cref="TorchDataParallel{TModule}"/>: every step takes the next global batch of one
/// seeded shuffle (the same on every process), each replica trains on its rows (forward, cross-entropy, backward, the
/// gradient mean over all replicas, Adam), and after each epoch each replica evaluates its share of the test set; the
/// shares' sums are combined over the replicas with <see cref="TorchReplica{TModule}.Pmean"/>.
/// </summary>
public sealed class CnnSession : IDisposable
{
    /// <summary>The mesh axis the batch is split over.</summary>
    public const string DataAxis = "data";

    /// <summary>Test images one replica evaluates at a time, so that evaluation needs little memory.</summary>
    private const int EvalChunk = 500;

    private readonly DeviceProvider _provider;
    private readonly TrainingOptions _options;
    private readonly Dataset _data;
    private readonly TorchDataParallel<Sequential> _ddp;
    private readonly torch.optim.Optimizer[] _optimizers;
    private readonly byte[] _batchImages;
    private readonly long[] _batchLabels;
    private readonly torch.Tensor _testImages;
    private readonly torch.Tensor _testLabels;
    private readonly SplitMix64 _shuffler;
    private readonly int[] _order;

    // Per local replica, summed over the epoch's steps: what each replica saw of the training batches.
    private readonly double[] _lossSums;
    private readonly double[] _correct;
    private readonly List<EpochResult> _epochs = [];
    private readonly Stopwatch _total = Stopwatch.StartNew();
    private double _trainSeconds;
    private int _steps;

    /// <summary>Builds the replicas (one per device of this process) and their optimizers, and puts the data into tensors.</summary>
    /// <param name="provider">The provider; its first <see cref="TrainingOptions.Devices"/> devices form the data axis.</param>
    /// <param name="options">
    /// The options: devices, batch, learning rate, seed, and <see cref="TrainingOptions.KernelThreads"/> as libtorch's
    /// threads per replica.
    /// </param>
    /// <param name="data">The dataset.</param>
    /// <exception cref="ArgumentException">The batch is larger than the training set or does not divide among the devices, or the provider has too few devices.</exception>
    public CnnSession(DeviceProvider provider, TrainingOptions options, Dataset data)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(data);
        StepsPerEpoch = data.TrainCount / options.BatchSize;
        if (StepsPerEpoch == 0 || options.BatchSize % options.Devices != 0 || provider.Devices.Count < options.Devices)
        {
            throw new ArgumentException(
                $"--batch-size {options.BatchSize} must be at most the {data.TrainCount} training images and divide among --devices {options.Devices} (the provider has {provider.Devices.Count}).",
                nameof(options));
        }

        _provider = provider;
        _options = options;
        _data = data;
        var mesh = new Mesh(provider.Devices.Take(options.Devices), (DataAxis, options.Devices));
        _ddp = new TorchDataParallel<Sequential>(
            mesh,
            device => CnnModel.Create(device, options.Seed),
            DataAxis,
            new TorchDataParallelOptions { ThreadsPerReplica = options.KernelThreads });
        _optimizers = [.. _ddp.Replicas.Select(m => torch.optim.Adam(m.parameters(), options.LearningRate))];
        _batchImages = new byte[options.BatchSize * Dataset.Features];
        _batchLabels = new long[options.BatchSize];
        (_testImages, _testLabels) = ToTensors(data.TestImages, data.TestLabels);
        _shuffler = new SplitMix64(options.Seed + 1);
        _order = [.. Enumerable.Range(0, data.TrainCount)];
        _lossSums = new double[_ddp.Replicas.Count];
        _correct = new double[_ddp.Replicas.Count];
    }

    /// <summary>Gets the optimizer steps per epoch (the last partial batch is dropped).</summary>
    public int StepsPerEpoch { get; }

    /// <summary>Gets this process's replicas.</summary>
    public IReadOnlyList<Sequential> Replicas => _ddp.Replicas;

    /// <summary>Runs one epoch and evaluates on the test set.</summary>
    /// <param name="onStep">Called after each step with the 1-based step; may be null.</param>
    /// <returns>The epoch's figures (the same on every process).</returns>
    /// <exception cref="NotFiniteNumberException">The training or test loss is infinite or NaN: training diverged.</exception>
    public EpochResult RunEpoch(Action<int>? onStep = null)
    {
        int batch = _options.BatchSize;
        int epoch = _epochs.Count + 1;
        _shuffler.Shuffle(_order);
        Array.Clear(_lossSums);
        Array.Clear(_correct);
        var clock = Stopwatch.StartNew();
        for (int s = 0; s < StepsPerEpoch; s++)
        {
            // The global batch, the same on every process; each replica takes its rows of it.
            (torch.Tensor images, torch.Tensor labels) = GlobalBatch(_order.AsSpan(s * batch, batch));
            using (images)
            using (labels)
            {
                _ddp.Run(replica => TrainStep(replica, images, labels));
            }

            _steps++;
            onStep?.Invoke(s + 1);
        }

        double seconds = clock.Elapsed.TotalSeconds;
        _trainSeconds += seconds;
        long seen = (long)StepsPerEpoch * batch;
        (double lossSum, double correct) = SumOverReplicas(_lossSums, _correct);
        ThrowIfNotFinite(lossSum, $"epoch {epoch}: the training loss");
        (double testLoss, double testAccuracy) = Evaluate();
        ThrowIfNotFinite(testLoss, $"epoch {epoch}: the test loss");
        var result = new EpochResult(epoch, lossSum / seen, correct / seen, testLoss, testAccuracy, seconds > 0 ? seen / seconds : 0, seconds);
        _epochs.Add(result);
        return result;
    }

    /// <summary>Evaluates on every test image: each replica its contiguous share, the sums combined over the replicas.</summary>
    /// <returns>The mean loss and the accuracy.</returns>
    public (double Loss, double Accuracy) Evaluate()
    {
        var lossSums = new double[_ddp.Replicas.Count];
        var correct = new double[_ddp.Replicas.Count];
        _ddp.Run(replica =>
        {
            long count = _data.TestCount;
            long start = count * replica.Rank / replica.ReplicaCount;
            long end = count * (replica.Rank + 1) / replica.ReplicaCount;
            using var noGrad = torch.no_grad();
            for (long from = start; from < end; from += EvalChunk)
            {
                using var scope = torch.NewDisposeScope();
                long n = Math.Min(EvalChunk, end - from);
                torch.Tensor x = _testImages.narrow(0, from, n).to(replica.TorchDevice).to(torch.float32).div_(255f);
                torch.Tensor y = _testLabels.narrow(0, from, n).to(replica.TorchDevice);
                torch.Tensor logits = replica.Module.forward(x);
                lossSums[replica.LocalIndex] += functional.cross_entropy(logits, y, reduction: Reduction.Sum).item<float>();
                correct[replica.LocalIndex] += logits.argmax(1).eq(y).sum().item<long>();
            }
        });
        (double loss, double right) = SumOverReplicas(lossSums, correct);
        return _data.TestCount == 0 ? (0, 0) : (loss / _data.TestCount, right / _data.TestCount);
    }

    /// <summary>Copies replica 0's parameters (of this process) to the host, in the module's order.</summary>
    /// <returns>Each parameter's name and values.</returns>
    public IReadOnlyList<(string Name, float[] Values)> Parameters() => ParametersOf(_ddp.Replicas[0]);

    /// <summary>A SHA-256 over the bits of every parameter of replica 0, in the module's order (hex, first 16 characters).</summary>
    /// <returns>The checksum.</returns>
    public string Checksum() => ChecksumOf(_ddp.Replicas[0]);

    /// <summary>Checks that every replica, on every process, holds the same parameter bits.</summary>
    /// <returns>True when all replicas agree.</returns>
    public bool ReplicasAgree()
    {
        int disagreements = 0;
        _ddp.Run(replica =>
        {
            // The checksum's 64 bits as four 16-bit parts, exact in double; they agree when every maximum is its minimum.
            ulong checksum = ulong.Parse(ChecksumOf(replica.Module), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            double[] parts = [.. Enumerable.Range(0, 4).Select(i => (double)((checksum >> (16 * i)) & 0xFFFF))];
            using torch.Tensor high = torch.tensor(parts, torch.float64, replica.TorchDevice);
            using torch.Tensor low = torch.tensor(parts, torch.float64, replica.TorchDevice);
            using (DeviceArray view = high.AsDeviceArray(replica.Device))
            {
                Collectives.AllReduceInPlace(view, ReduceOp.Max, DataAxis);
            }

            using (DeviceArray view = low.AsDeviceArray(replica.Device))
            {
                Collectives.AllReduceInPlace(view, ReduceOp.Min, DataAxis);
            }

            if (!high.data<double>().ToArray().SequenceEqual(low.data<double>().ToArray()))
            {
                Interlocked.Increment(ref disagreements);
            }
        });
        return disagreements == 0;
    }

    /// <summary>Writes replica 0's parameters to a file: raw little-endian float32, parameters in the module's order.</summary>
    /// <param name="path">The file.</param>
    public void SaveParameters(string path)
    {
        using FileStream file = File.Create(path);
        foreach ((string _, float[] values) in Parameters())
        {
            file.Write(MemoryMarshal.AsBytes(values.AsSpan()));
        }
    }

    /// <summary>Summarizes the run so far. Every process must call it: the replicas' agreement is checked across them.</summary>
    /// <returns>The summary.</returns>
    public TrainingSummary Summarize() => new()
    {
        Data = _data.Source,
        Provider = _options.Provider,
        Processes = _provider.ProcessCount,
        Devices = _options.Devices,
        BatchSize = _options.BatchSize,
        LearningRate = _options.LearningRate,
        Seed = _options.Seed,
        Reproducible = false,
        Microbatch = 0,
        Steps = _steps,
        TestAccuracy = _epochs.Count > 0 ? _epochs[^1].TestAccuracy : 0,
        TrainAccuracy = _epochs.Count > 0 ? _epochs[^1].TrainAccuracy : 0,
        TrainSeconds = _trainSeconds,
        TotalSeconds = _total.Elapsed.TotalSeconds,
        SamplesPerSecond = _trainSeconds > 0 ? (double)_steps * _options.BatchSize / _trainSeconds : 0,
        ParameterChecksum = Checksum(),
        ReplicasIdentical = ReplicasAgree(),
        Epochs = [.. _epochs],
    };

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (torch.optim.Optimizer optimizer in _optimizers)
        {
            optimizer.Dispose();
        }

        _ddp.Dispose();
        _testImages.Dispose();
        _testLabels.Dispose();
    }

    /// <summary>One replica's step on its rows of the global batch.</summary>
    private void TrainStep(TorchReplica<Sequential> replica, torch.Tensor images, torch.Tensor labels)
    {
        using var scope = torch.NewDisposeScope();
        torch.Tensor x = replica.Shard(images).to(torch.float32).div_(255f);
        torch.Tensor y = replica.Shard(labels);
        torch.optim.Optimizer optimizer = _optimizers[replica.LocalIndex];
        optimizer.zero_grad();
        torch.Tensor logits = replica.Module.forward(x);
        torch.Tensor loss = functional.cross_entropy(logits, y);
        loss.backward();
        replica.SynchronizeGradients();
        optimizer.step();
        _lossSums[replica.LocalIndex] += (double)loss.item<float>() * x.shape[0];
        _correct[replica.LocalIndex] += logits.argmax(1).eq(y).sum().item<long>();
    }

    /// <summary>
    /// Gathers the batch's rows on this thread in managed code, as the main sample does: a libtorch gather here would
    /// start an OpenMP team on this thread whose threads keep spinning between steps, on the cores the replicas need.
    /// </summary>
    private (torch.Tensor Images, torch.Tensor Labels) GlobalBatch(ReadOnlySpan<int> rows)
    {
        for (int i = 0; i < rows.Length; i++)
        {
            _data.TrainImages.AsSpan(rows[i] * Dataset.Features, Dataset.Features).CopyTo(_batchImages.AsSpan(i * Dataset.Features));
            _batchLabels[i] = _data.TrainLabels[rows[i]];
        }

        return (torch.tensor(_batchImages, [rows.Length, 1, 28, 28], torch.uint8), torch.tensor(_batchLabels));
    }

    /// <summary>Sums two per-replica figures over every replica of every process (a mean over the replicas, times their count).</summary>
    private (double First, double Second) SumOverReplicas(double[] first, double[] second)
    {
        var sums = new double[2];
        _ddp.Run(replica =>
        {
            using torch.Tensor local = torch.tensor(new[] { first[replica.LocalIndex], second[replica.LocalIndex] }, torch.float64, replica.TorchDevice);
            using torch.Tensor mean = replica.Pmean(local);
            if (replica.LocalIndex == 0)
            {
                using torch.Tensor total = mean.cpu();
                sums[0] = total[0].item<double>() * replica.ReplicaCount;
                sums[1] = total[1].item<double>() * replica.ReplicaCount;
            }
        });
        return (sums[0], sums[1]);
    }

    private void ThrowIfNotFinite(double value, string what)
    {
        if (!double.IsFinite(value))
        {
            throw new NotFiniteNumberException(
                string.Create(CultureInfo.InvariantCulture, $"Training diverged at {what} is {value}; stopped (lower --learning-rate, now {_options.LearningRate})."),
                value);
        }
    }

    private static (torch.Tensor Images, torch.Tensor Labels) ToTensors(byte[] images, int[] labels)
    {
        // Bytes stay bytes (a quarter of the memory of floats); a batch is scaled to [0, 1] when a replica takes it.
        torch.Tensor pixels = torch.tensor(images, [labels.Length, 1, 28, 28], torch.uint8);
        torch.Tensor classes = torch.tensor(labels, torch.int64);
        return (pixels, classes);
    }

    private static List<(string Name, float[] Values)> ParametersOf(Sequential module) =>
        [.. module.named_parameters().Select(static p => (p.name, p.parameter.data<float>().ToArray()))];

    private static string ChecksumOf(Sequential module)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach ((string _, float[] values) in ParametersOf(module))
        {
            hash.AppendData(MemoryMarshal.AsBytes(values.AsSpan()));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }
}
