using System.Diagnostics;
using System.Globalization;
using Artifex.Distributed;

namespace Artifex.Samples.FashionMnist;

/// <summary>The epoch loop: shuffle, step through the global batches, evaluate; one epoch per call so a UI can draw between them.</summary>
public sealed class TrainingSession : IDisposable
{
    private readonly DeviceProvider _provider;
    private readonly TrainingOptions _options;
    private readonly Dataset _data;
    private readonly MlpTrainer _trainer;
    private readonly SplitMix64 _shuffler;
    private readonly int[] _order;
    private readonly List<EpochResult> _epochs = [];
    private readonly Stopwatch _total = Stopwatch.StartNew();
    private readonly StepTrace? _trace;
    private double _trainSeconds;

    /// <summary>Initializes a session: places the parameters and optimizer state on the devices.</summary>
    /// <param name="provider">The provider (its device count at least <see cref="TrainingOptions.Devices"/>).</param>
    /// <param name="options">The options.</param>
    /// <param name="data">The dataset.</param>
    /// <exception cref="ArgumentException">The batch does not fit the data or the devices.</exception>
    public TrainingSession(DeviceProvider provider, TrainingOptions options, Dataset data)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(data);
        StepsPerEpoch = data.TrainCount / options.BatchSize;
        if (StepsPerEpoch == 0)
        {
            throw new ArgumentException($"--batch-size {options.BatchSize} is larger than the {data.TrainCount} training images.", nameof(options));
        }

        _provider = provider;
        _options = options;
        _data = data;
        _trace = options.TracePath is null ? null : new StepTrace(options.Devices);
        _trainer = new MlpTrainer(
            provider,
            options.Devices,
            options.BatchSize,
            options.LearningRate,
            options.Seed,
            microbatch: options.Reproducible ? options.Microbatch : 0,
            compression: string.Equals(options.Compression, "half", StringComparison.Ordinal) ? GradientCompression.Half : GradientCompression.None,
            trace: _trace,
            zeroStage: options.Zero);
        _shuffler = new SplitMix64(options.Seed + 1);
        _order = [.. Enumerable.Range(0, data.TrainCount)];
    }

    /// <summary>Gets the optimizer steps per epoch (the last partial batch is dropped).</summary>
    public int StepsPerEpoch { get; }

    /// <summary>Gets the trainer, for inspection.</summary>
    public MlpTrainer Trainer => _trainer;

    /// <summary>Runs one epoch and evaluates on the test set.</summary>
    /// <param name="onStep">Called after each step with the 1-based step; may be null.</param>
    /// <returns>The epoch's figures.</returns>
    /// <exception cref="NotFiniteNumberException">
    /// Training diverged: a step's loss, the test loss or a parameter is infinite or NaN. The run stops at the step that
    /// shows it; the message is one line naming the epoch, the step and <c>--learning-rate</c>.
    /// </exception>
    public EpochResult RunEpoch(Action<int>? onStep = null)
    {
        int batch = _options.BatchSize;
        int epoch = _epochs.Count + 1;
        _shuffler.Shuffle(_order);
        double lossSum = 0;
        long correct = 0;
        var clock = Stopwatch.StartNew();
        for (int s = 0; s < StepsPerEpoch; s++)
        {
            (double loss, int right) = _trainer.Step(_data, _order.AsSpan(s * batch, batch));
            ThrowIfNotFinite(loss, $"epoch {epoch}, step {s + 1}: the training loss");
            lossSum += loss;
            correct += right;
            onStep?.Invoke(s + 1);
        }

        double seconds = clock.Elapsed.TotalSeconds;
        _trainSeconds += seconds;
        (double testLoss, double testAccuracy) = _trainer.Evaluate(_data);
        ThrowIfNotFinite(testLoss, $"epoch {epoch}: the test loss");
        ThrowIfParametersNotFinite(epoch);
        long seen = (long)StepsPerEpoch * batch;
        double samplesPerSecond = seconds > 0 ? seen / seconds : 0;
        var result = new EpochResult(epoch, lossSum / seen, (double)correct / seen, testLoss, testAccuracy, samplesPerSecond, seconds);
        _epochs.Add(result);
        return result;
    }

    /// <summary>Writes the step timeline to <see cref="TrainingOptions.TracePath"/>, when one was asked for.</summary>
    public void WriteTrace()
    {
        if (_trace is not null && _options.TracePath is { } path)
        {
            _trace.Write(path);
        }
    }

    /// <summary>Summarizes the run so far.</summary>
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
        Reproducible = _options.Reproducible,
        Compression = _options.Compression,
        Microbatch = _options.Reproducible ? _options.Microbatch : 0,
        Zero = _trainer.ZeroStage,
        OptimizerStateBytesPerDevice = _trainer.OptimizerStateBytesPerDevice,
        Steps = _trainer.StepCount,
        TestAccuracy = _epochs.Count > 0 ? _epochs[^1].TestAccuracy : 0,
        TrainAccuracy = _epochs.Count > 0 ? _epochs[^1].TrainAccuracy : 0,
        TrainSeconds = _trainSeconds,
        TotalSeconds = _total.Elapsed.TotalSeconds,
        SamplesPerSecond = _trainSeconds > 0 ? (double)_trainer.StepCount * _options.BatchSize / _trainSeconds : 0,
        ParameterChecksum = _trainer.Checksum(),
        ReplicasIdentical = _trainer.ReplicasAgree(),
        Epochs = [.. _epochs],
    };

    /// <summary>Runs every epoch without a UI (tests and benchmarks).</summary>
    /// <param name="provider">The provider.</param>
    /// <param name="options">The options.</param>
    /// <param name="data">The dataset.</param>
    /// <returns>The summary.</returns>
    public static TrainingSummary Run(DeviceProvider provider, TrainingOptions options, Dataset data)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var session = new TrainingSession(provider, options, data);
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            session.RunEpoch();
        }

        return session.Summarize();
    }

    /// <inheritdoc/>
    public void Dispose() => _trainer.Dispose();

    private void ThrowIfNotFinite(double value, string what)
    {
        if (!double.IsFinite(value))
        {
            throw new NotFiniteNumberException(
                string.Create(CultureInfo.InvariantCulture, $"Training diverged at {what} is {value}; stopped (lower --learning-rate, now {_options.LearningRate})."),
                value);
        }
    }

    private void ThrowIfParametersNotFinite(int epoch)
    {
        foreach (KeyValuePair<TreePath, HostArray> leaf in _trainer.ParametersToHost().LeavesWithPaths())
        {
            foreach (float value in leaf.Value.As<float>().Span)
            {
                ThrowIfNotFinite(value, $"the end of epoch {epoch}: parameter {leaf.Key} holds a value that");
            }
        }
    }
}
