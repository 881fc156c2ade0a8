using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Artifex.Distributed;

namespace Artifex.Samples.FashionMnist;

/// <summary>
/// Data-parallel training of the MLP with only the public API: a data mesh from <see cref="DeviceMeshManager"/>, the batch
/// sharding from <see cref="DataParallel.CreateDataParallelSharding"/>, <see cref="DataParallel.ShardBatch"/> for every
/// global batch, <see cref="DataParallel.ReplicateParams"/> and <see cref="DataParallel.ShardModelState"/> for the
/// parameters and Adam's moments, then per device (in an SPMD region) forward, a backward pass that writes its gradients
/// into a <see cref="GradientReducer"/>'s buckets and marks each layer ready (layer 2's bucket all-reduces while layer 1's
/// backward runs), <see cref="GradientReducer.Finish"/> (the mean, in place) and the same Adam update.
/// </summary>
public sealed class MlpTrainer : IDisposable
{
    /// <summary>The mesh axis the batch is split over.</summary>
    public const string DataAxis = "data";

    // Leaf order of the parameter tree (keys sorted): dense1/bias, dense1/kernel, dense2/bias, dense2/kernel.
    private const int Bias1 = 0;
    private const int Kernel1 = 1;
    private const int Bias2 = 2;
    private const int Kernel2 = 3;

    private readonly DeviceProvider _provider;
    private readonly DataParallel _dataParallel = new();
    private readonly Mesh _mesh;
    private readonly NamedSharding _batchSharding;
    private readonly Tree<GlobalArray> _parameters;
    private readonly Tree<GlobalArray> _firstMoments;
    private readonly Tree<GlobalArray> _secondMoments;
    private readonly GlobalArray[] _parameterLeaves;
    private readonly GlobalArray[] _firstMomentLeaves;
    private readonly GlobalArray[] _secondMomentLeaves;
    // Indexed by mesh position; null for devices of other processes (a multi-process provider runs only its own).
    private readonly DeviceWorkspace?[] _train;
    private readonly DeviceWorkspace?[] _eval;
    private readonly double[] _rankLoss;
    private (double LossSum, int Correct) _sharedTotals;
    private readonly int[] _rankCorrect;
    private readonly float[] _batchImages;
    private readonly int[] _batchLabels;
    private readonly float[] _evalImages;
    private readonly int[] _evalLabels;
    private readonly Action<SpmdContext> _trainBody;
    private readonly Action<SpmdContext> _evalBody;
    private readonly MicrobatchResources?[]? _micro;
    // Per mesh position: the reducer (ordinary step only) and its gradient leaves in tree order, views into its buckets.
    private readonly GradientReducer?[] _reducers;
    private readonly DeviceBuffer[]?[] _gradients;
    private readonly StepTrace? _trace;
    private readonly bool _overlap;
    private readonly long[] _stepAllocatedBytes;
    // ZeRO stage 1: one sharded Adam per device of this process, or null when Adam's state is replicated.
    private readonly ShardedAdam?[]? _zero;
    private Tree<GlobalArray>? _batch;
    private int _evalValidRows;
    private int _step;

    /// <summary>Initializes a trainer on the first <paramref name="deviceCount"/> devices of a provider.</summary>
    /// <param name="provider">The provider.</param>
    /// <param name="deviceCount">How many devices to train on.</param>
    /// <param name="globalBatch">The global batch size; divisible by the device count.</param>
    /// <param name="learningRate">Adam's learning rate.</param>
    /// <param name="seed">The seed of the initial parameters.</param>
    /// <param name="evalBatch">The global evaluation batch (rounded down to a multiple of the device count).</param>
    /// <param name="microbatch">
    /// 0 for the ordinary step. A positive size turns on reproducible mode: each device computes the gradient of every
    /// microbatch of this many rows into a block of its own, and one reproducible mean over the data axis of every
    /// device's blocks (<see cref="Collectives.AllReduceContributions"/>: exact sums, rounded once, divided by the global
    /// microbatch count) gives the gradients, so the parameters are bitwise identical for any device count that divides
    /// the batch into whole microbatches.
    /// </param>
    /// <param name="compression">How the ordinary step sends its gradients (reproducible mode's sums are never compressed).</param>
    /// <param name="trace">Records each device's step phases and bucket all-reduces, or null.</param>
    /// <param name="overlapGradients">
    /// True (default): each layer's gradients are marked ready as the backward pass writes them, so layer 2's bucket
    /// all-reduces during layer 1's backward pass. False: all are marked after the backward pass (the same collectives
    /// and bits, without overlap; for comparison).
    /// </param>
    /// <param name="zeroStage">
    /// 0: Adam's moments replicated on every device. 1: ZeRO stage 1, each device keeps its 1/N of them in a
    /// <see cref="ShardedAdam"/>; the parameters are bitwise the same. Not with reproducible mode.
    /// </param>
    /// <exception cref="ArgumentException">The batch is not divisible by the device count (or the local batch by the microbatch), the provider has too few devices, or ZeRO is asked for with reproducible mode.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="zeroStage"/> is not 0 or 1.</exception>
    public MlpTrainer(
        DeviceProvider provider,
        int deviceCount,
        int globalBatch,
        float learningRate,
        ulong seed,
        int evalBatch = 1000,
        int microbatch = 0,
        GradientCompression compression = GradientCompression.None,
        StepTrace? trace = null,
        bool overlapGradients = true,
        int zeroStage = 0)
    {
        Validate(provider, deviceCount, globalBatch, microbatch);
        CheckZeroStage(zeroStage, microbatch);
        if (zeroStage == 1 && compression != GradientCompression.None)
        {
            throw new ArgumentException("ZeRO stage 1 reduce-scatters Single gradients; it does not compress them.", nameof(compression));
        }
        _provider = provider;
        Microbatch = microbatch;
        LearningRate = learningRate;
        GlobalBatch = globalBatch;
        var manager = new DeviceMeshManager(provider.Devices.Take(deviceCount));
        _mesh = manager.CreateDataParallelMesh(deviceCount, DataAxis);
        _batchSharding = _dataParallel.CreateDataParallelSharding(_mesh, DataAxis);
        _parameters = _dataParallel.ReplicateParams(MlpParameters.Initialize(seed), _mesh);
        _firstMoments = zeroStage == 0 ? _dataParallel.ShardModelState(MlpParameters.Zeros(), _mesh) : Tree.Empty<GlobalArray>();
        _secondMoments = zeroStage == 0 ? _dataParallel.ShardModelState(MlpParameters.Zeros(), _mesh) : Tree.Empty<GlobalArray>();
        _parameterLeaves = [.. _parameters.Leaves()];
        _firstMomentLeaves = [.. _firstMoments.Leaves()];
        _secondMomentLeaves = [.. _secondMoments.Leaves()];

        int localBatch = globalBatch / deviceCount;
        int localEval = Math.Max(1, evalBatch / deviceCount);
        EvalBatch = localEval * deviceCount;
        _train = [.. _mesh.Devices.Select(d => provider.IsAddressable(d) ? new DeviceWorkspace(d, localBatch) : null)];
        _eval = [.. _mesh.Devices.Select(d => provider.IsAddressable(d) ? new DeviceWorkspace(d, localEval) : null)];
        _rankLoss = new double[deviceCount];
        _rankCorrect = new int[deviceCount];
        _batchImages = new float[globalBatch * Dataset.Features];
        _batchLabels = new int[globalBatch];
        _evalImages = new float[EvalBatch * Dataset.Features];
        _evalLabels = new int[EvalBatch];
        if (microbatch > 0)
        {
            _micro = [.. _train.Select(ws => ws is null ? null : new MicrobatchResources(ws, microbatch, _parameterLeaves))];
        }

        // The backward pass writes straight into the buckets (views), so the reduction copies nothing in or out.
        var reducerOptions = new GradientReducerOptions { GradientsAsBucketViews = true, Compression = compression };
        _reducers = [.. _train.Select(ws => ws is null || microbatch > 0 || zeroStage == 1 ? null : _dataParallel.CreateGradientReducer(ws.Gradients, DataAxis, reducerOptions))];
        _gradients = [.. _reducers.Select((r, k) => r?.Gradients.Leaves().Select(static leaf => leaf.Buffer).ToArray() ?? _train[k]?.Gradients.Leaves().Select(static leaf => leaf.Buffer).ToArray())];
        _trace = trace;
        _overlap = overlapGradients;
        _stepAllocatedBytes = new long[deviceCount];

        _zero = zeroStage == 1 ? CreateShardedOptimizers() : null;
        _trainBody = TrainBody;
        _evalBody = EvalBody;
    }

    /// <summary>Gets the mesh the trainer runs on.</summary>
    public Mesh Mesh => _mesh;

    /// <summary>Gets the global batch size.</summary>
    public int GlobalBatch { get; }

    /// <summary>Gets the microbatch size of reproducible mode, or 0 when it is off.</summary>
    public int Microbatch { get; }

    /// <summary>Gets the global evaluation batch size.</summary>
    public int EvalBatch { get; }

    /// <summary>Gets Adam's learning rate.</summary>
    public float LearningRate { get; }

    /// <summary>
    /// Gets the most bytes any device's part of the last step allocated on its thread (forward, backward, gradient
    /// reduction, Adam): 0 in the steady state of the ordinary step. Placing the batch and starting the region, on the
    /// caller's thread, are not counted.
    /// </summary>
    public long DeviceStepAllocatedBytes => _stepAllocatedBytes.Max();

    /// <summary>Gets the number of optimizer steps taken.</summary>
    public int StepCount => _step;

    /// <summary>Gets the ZeRO stage: 0 (Adam's state replicated) or 1 (sharded over the devices).</summary>
    public int ZeroStage => _zero is null ? 0 : 1;

    /// <summary>Gets the bytes of Adam's state (both moments) each device holds: all 407,050 elements' worth, or ⌈407,050 / N⌉ with ZeRO stage 1.</summary>
    public long OptimizerStateBytesPerDevice =>
        _zero?.FirstOrDefault(static z => z is not null)?.StateBytes ?? 2L * sizeof(float) * _parameterLeaves.Sum(static leaf => leaf.Length);

    /// <summary>Runs one training step on the global batch made of <paramref name="indices"/> (rows of the training set).</summary>
    /// <param name="data">The dataset.</param>
    /// <param name="indices">The rows of the batch; exactly <see cref="GlobalBatch"/> of them.</param>
    /// <returns>The batch's summed loss and number of correct predictions (before the update).</returns>
    public (double LossSum, int Correct) Step(Dataset data, ReadOnlySpan<int> indices)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (indices.Length != GlobalBatch)
        {
            throw new ArgumentException($"A step takes {GlobalBatch} rows, not {indices.Length}.", nameof(indices));
        }

        Gather(data.TrainImages, data.TrainLabels, indices, _batchImages, _batchLabels);
        _step++;
        RunOnBatch(_batchImages, _batchLabels, _trainBody);
        return Totals(_train.Length);
    }

    /// <summary>Evaluates on every test image of <paramref name="data"/>.</summary>
    /// <param name="data">The dataset.</param>
    /// <returns>The mean loss and accuracy.</returns>
    public (double Loss, double Accuracy) Evaluate(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        double lossSum = 0;
        long correct = 0;
        int[] indices = new int[EvalBatch];
        for (int start = 0; start < data.TestCount; start += EvalBatch)
        {
            _evalValidRows = Math.Min(EvalBatch, data.TestCount - start);
            for (int i = 0; i < EvalBatch; i++)
            {
                // The tail batch repeats its first row as padding; padded rows are not counted.
                indices[i] = start + (i < _evalValidRows ? i : 0);
            }

            Gather(data.TestImages, data.TestLabels, indices, _evalImages, _evalLabels);
            RunOnBatch(_evalImages, _evalLabels, _evalBody);

            (double l, int c) = Totals(_eval.Length);
            lossSum += l;
            correct += c;
        }

        return data.TestCount == 0 ? (0, 0) : (lossSum / data.TestCount, (double)correct / data.TestCount);
    }

    /// <summary>Copies the parameters (device 0's replica) to the host.</summary>
    /// <returns>The host tree.</returns>
    public Tree<HostArray> ParametersToHost() => _parameters.ToHost();

    /// <summary>Checks that every device holds the same bits of every parameter (the update is identical everywhere).</summary>
    /// <returns>True when all replicas agree.</returns>
    public bool ReplicasAgree()
    {
        foreach (GlobalArray leaf in _parameterLeaves)
        {
            float[] first = Read(leaf.Shards[0].Buffer);
            foreach (Shard shard in leaf.Shards.Skip(1))
            {
                if (!MemoryMarshal.AsBytes(first.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(Read(shard.Buffer).AsSpan())))
                {
                    return false;
                }
            }
        }

        return _provider.ProcessCount == 1 || ChecksumsAgreeAcrossProcesses();
    }

    /// <summary>
    /// A process sees only its own replicas: the other processes' are compared through the checksum, whose 64 bits go over
    /// the data axis as four 16-bit parts (exact in double); the replicas agree when every part's maximum equals its minimum.
    /// </summary>
    private bool ChecksumsAgreeAcrossProcesses()
    {
        ulong checksum = ulong.Parse(Checksum(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        double[] parts = [.. Enumerable.Range(0, 4).Select(i => (double)((checksum >> (16 * i)) & 0xFFFF))];
        bool agree = true;
        _provider.RunSpmd(_mesh, context =>
        {
            using DeviceArray<double> high = DeviceArray.Allocate<double>(context.Device, parts.Length);
            using DeviceArray<double> low = DeviceArray.Allocate<double>(context.Device, parts.Length);
            high.CopyFrom(parts);
            low.CopyFrom(parts);
            AxisGroup data = context.GetAxisGroup(DataAxis);
            context.AllReduce(high, high, ReduceOp.Max, data);
            context.AllReduce(low, low, ReduceOp.Min, data);
            if (!high.ToArray().SequenceEqual(low.ToArray()))
            {
                Volatile.Write(ref agree, false);
            }
        });
        return agree;
    }

    /// <summary>A SHA-256 over the bits of every parameter, in tree order (hex, first 16 characters).</summary>
    /// <returns>The checksum.</returns>
    public string Checksum()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (GlobalArray leaf in _parameterLeaves)
        {
            hash.AppendData(MemoryMarshal.AsBytes(Read(leaf.Shards[0].Buffer).AsSpan()));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        // The microbatch resources hold views of the training workspaces: they go first.
        foreach (MicrobatchResources? resources in _micro ?? [])
        {
            resources?.Dispose();
        }

        foreach (DeviceWorkspace? workspace in _train.Concat(_eval))
        {
            workspace?.Dispose();
        }

        foreach (GradientReducer? reducer in _reducers)
        {
            reducer?.Dispose();
        }

        foreach (ShardedAdam? optimizer in _zero ?? [])
        {
            optimizer?.Dispose();
        }

        _parameters.DisposeLeaves();
        _firstMoments.DisposeLeaves();
        _secondMoments.DisposeLeaves();
    }

    private static void Validate(DeviceProvider provider, int deviceCount, int globalBatch, int microbatch)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentOutOfRangeException.ThrowIfLessThan(deviceCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(globalBatch, 1);
        if (deviceCount > provider.Devices.Count)
        {
            throw new ArgumentException($"--devices {deviceCount}: the {provider.Platform} provider has {provider.Devices.Count} devices.", nameof(deviceCount));
        }

        if (globalBatch % deviceCount != 0)
        {
            throw new ArgumentException($"--batch-size {globalBatch} is not divisible by --devices {deviceCount}.", nameof(globalBatch));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(microbatch);
        if (microbatch > 0 && globalBatch / deviceCount % microbatch != 0)
        {
            throw new ArgumentException(
                $"--microbatch {microbatch} does not divide the {globalBatch / deviceCount} rows each of {deviceCount} devices gets from --batch-size {globalBatch}.", nameof(microbatch));
        }
    }

    private static void Gather(byte[] images, int[] labels, ReadOnlySpan<int> indices, float[] batchImages, int[] batchLabels)
    {
        for (int i = 0; i < indices.Length; i++)
        {
            Span<float> row = batchImages.AsSpan(i * Dataset.Features, Dataset.Features);
            TensorPrimitives.ConvertTruncating<byte, float>(images.AsSpan(indices[i] * Dataset.Features, Dataset.Features), row);
            TensorPrimitives.Divide(row, 255f, row);
            batchLabels[i] = labels[indices[i]];
        }
    }

    /// <summary>Places a global batch with <c>ShardBatch</c>, runs one SPMD region over it, and frees it.</summary>
    private void RunOnBatch(float[] images, int[] labels, Action<SpmdContext> body)
    {
        _batch = _dataParallel.ShardBatch(
            Tree.Dict<HostArray>(("x", new HostArray<float>(images, labels.Length, Dataset.Features)), ("y", new HostArray<int>(labels, labels.Length))),
            _batchSharding);
        try
        {
            _provider.RunSpmd(_mesh, body);
        }
        finally
        {
            _batch.DisposeLeaves();
            _batch = null;
        }
    }

    private float[] Read(DeviceBuffer buffer)
    {
        var values = new float[buffer.Length];
        _provider.CopyToHost<float>(buffer, 0, values);
        return values;
    }

    private (double LossSum, int Correct) Totals(int ranks)
    {
        if (_provider.ProcessCount > 1)
        {
            return _sharedTotals;
        }

        // Summed in rank order after the region, so the totals do not depend on which device finished first.
        double loss = 0;
        int correct = 0;
        for (int r = 0; r < ranks; r++)
        {
            loss += _rankLoss[r];
            correct += _rankCorrect[r];
        }

        return (loss, correct);
    }

    private void TrainBody(SpmdContext context)
    {
        Device device = context.Device;
        int rank = context.DeviceIndex;
        DeviceWorkspace ws = _train[rank]!;
        DeviceKernels k = _provider.Kernels;
        DeviceBuffer x = _batch!["x"].Value.GetShard(device).Buffer;
        DeviceBuffer y = _batch["y"].Value.GetShard(device).Buffer;
        DeviceBuffer[] gradients = _gradients[rank]!;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        if (_reducers[rank] is { } reducer)
        {
            Forward(k, ws, x, y, device);
            long forward = Stopwatch.GetTimestamp();
            Backward(k, ws, x, y, device, gradients, _overlap ? reducer : null);
            if (!_overlap)
            {
                for (int leaf = gradients.Length - 1; leaf >= 0; leaf--)
                {
                    reducer.MarkReady(leaf);
                }
            }

            long backward = Stopwatch.GetTimestamp();

            // Scoring reads the batch's results on the host while the last bucket is still being reduced.
            (_rankLoss[rank], _rankCorrect[rank]) = Score(ws, y, ws.Rows);
            reducer.Finish();
            ShareScores(context, ws);
            long synchronized = Stopwatch.GetTimestamp();
            _trace?.Record(rank, StepPhase.Forward, start, forward);
            _trace?.Record(rank, StepPhase.Backward, forward, backward);
            _trace?.Record(rank, StepPhase.Synchronize, backward, synchronized);
            _trace?.RecordBuckets(rank, reducer.LastStepTimings);
            start = synchronized;
        }
        else if (_zero is not null)
        {
            Forward(k, ws, x, y, device);
            Backward(k, ws, x, y, device, gradients, reducer: null);
            (_rankLoss[rank], _rankCorrect[rank]) = Score(ws, y, ws.Rows);
            ShareScores(context, ws);
        }
        else
        {
            ReproducibleGradients(rank, k, ws, x, y, device);
            ShareScores(context, ws);
        }

        if (_zero is not null)
        {
            ZeroStep(rank, ws);
        }
        else
        {
            ReplicatedAdam(k, device, gradients);
        }

        _trace?.Record(rank, StepPhase.Optimizer, start, Stopwatch.GetTimestamp());
        _stepAllocatedBytes[rank] = GC.GetAllocatedBytesForCurrentThread() - allocated;
    }

    private void ReplicatedAdam(DeviceKernels k, Device device, DeviceBuffer[] gradients)
    {
        var settings = AdamStep.Default(LearningRate, _step);
        for (int leaf = 0; leaf < _parameterLeaves.Length; leaf++)
        {
            k.AdamUpdate(
                Local(_parameterLeaves, leaf, device),
                gradients[leaf],
                Local(_firstMomentLeaves, leaf, device),
                Local(_secondMomentLeaves, leaf, device),
                settings);
        }
    }

    /// <summary>
    /// ZeRO stage 1: the device's <see cref="ShardedAdam"/> reduce-scatters the gradients (the same rank-order mean),
    /// updates its shard of the parameters with its shard of the moments, and all-gathers the parameters back.
    /// </summary>
    private void ZeroStep(int rank, DeviceWorkspace ws) =>
        _zero![rank]!.Step(ws.Gradients, AdamStep.Default(LearningRate, _step), DataAxis);

    private static void CheckZeroStage(int zeroStage, int microbatch)
    {
        if (zeroStage is not (0 or 1))
        {
            throw new ArgumentOutOfRangeException(nameof(zeroStage), zeroStage, $"--zero must be 0 or 1, not {zeroStage}.");
        }

        if (zeroStage == 1 && microbatch > 0)
        {
            throw new ArgumentException("--zero 1 and --reproducible exclude each other: reproducible mode reduces exact microbatch sums, not ZeRO's rank-order reduce-scatter.", nameof(zeroStage));
        }
    }

    /// <summary>One <see cref="ShardedAdam"/> per device of this process, over its replica of the parameters, ranked by mesh position.</summary>
    private ShardedAdam?[] CreateShardedOptimizers() =>
        [.. _mesh.Devices.Select((d, rank) => _provider.IsAddressable(d) ? _dataParallel.CreateShardedAdam(LocalParameters(d), rank, _mesh.Size) : null)];

    /// <summary>This device's replica of the parameters as views, in the tree's structure (what its <see cref="ShardedAdam"/> updates).</summary>
    private Tree<DeviceArray> LocalParameters(Device device) =>
        _parameters.Map(leaf => (DeviceArray)DeviceArray.View<float>(leaf.GetShard(device).Buffer, [.. leaf.Shape]));

    /// <summary>
    /// Reproducible mode. The forward pass, the loss gradient (scaled by 1 / microbatch) and the hidden layer's gradient
    /// are row by row, so they run once over the device's whole batch: a row's values do not depend on how many rows the
    /// GEMM holds. The parameter gradients sum over rows, so each microbatch gets its own, computed at the microbatch's
    /// shape into a block of its own (the same floats wherever the microbatch is computed); one reproducible mean over the
    /// data axis of every device's blocks (<see cref="Collectives.AllReduceContributions"/>) leaves the gradients.
    /// </summary>
    private void ReproducibleGradients(int rank, DeviceKernels k, DeviceWorkspace ws, DeviceBuffer x, DeviceBuffer y, Device device)
    {
        MicrobatchResources mb = _micro![rank]!;
        int m = Microbatch;
        Forward(k, ws, x, y, device);
        (_rankLoss[rank], _rankCorrect[rank]) = Score(ws, y, ws.Rows);
        HiddenGradient(k, ws, y, device, 1f / m);
        for (int j = 0; j < mb.Gradients.Length; j++)
        {
            _provider.Copy(x, (long)j * m * Dataset.Features, mb.Images, 0, (long)m * Dataset.Features);
            LayerTwoGradients(k, mb.Hidden[j], mb.GradLogits[j], m, mb.Gradients[j]);
            LayerOneGradients(k, mb.Images, mb.GradHidden[j], m, mb.Gradients[j]);
        }

        var outputs = ws.Gradients.Leaves();
        for (int leaf = 0; leaf < mb.Stacked.Length; leaf++)
        {
            Collectives.AllReduceContributions(mb.Stacked[leaf], outputs[leaf], ReduceOp.Mean, DataAxis);
        }
    }

    /// <summary>
    /// The backward pass into <paramref name="gradients"/> (tree order). With a reducer, each layer's gradients are marked
    /// ready as soon as they are written: layer 2's bucket then all-reduces while layer 1's products run.
    /// </summary>
    private void Backward(DeviceKernels k, DeviceWorkspace ws, DeviceBuffer x, DeviceBuffer y, Device device, DeviceBuffer[] gradients, GradientReducer? reducer)
    {
        int b = ws.Rows;
        HiddenGradient(k, ws, y, device, 1f / b);
        LayerTwoGradients(k, ws.Hidden, ws.GradLogits, b, gradients);
        reducer?.MarkReady(Kernel2);
        reducer?.MarkReady(Bias2);
        LayerOneGradients(k, x, ws.GradHidden, b, gradients);
        reducer?.MarkReady(Kernel1);
        reducer?.MarkReady(Bias1);
    }

    private void EvalBody(SpmdContext context)
    {
        Device device = context.Device;
        DeviceWorkspace ws = _eval[context.DeviceIndex]!;
        DeviceBuffer x = _batch!["x"].Value.GetShard(device).Buffer;
        DeviceBuffer y = _batch["y"].Value.GetShard(device).Buffer;
        Forward(_provider.Kernels, ws, x, y, device);
        int valid = Math.Clamp(_evalValidRows - (context.DeviceIndex * ws.Rows), 0, ws.Rows);
        (_rankLoss[context.DeviceIndex], _rankCorrect[context.DeviceIndex]) = Score(ws, y, valid);
        ShareScores(context, ws);
    }

    /// <summary>The loss gradient (scaled by <paramref name="scale"/>) and the hidden layer's, row by row over the workspace.</summary>
    private void HiddenGradient(DeviceKernels k, DeviceWorkspace ws, DeviceBuffer y, Device device, float scale)
    {
        int b = ws.Rows;
        k.SoftmaxCrossEntropyBackward(ws.Probabilities, y, b, Dataset.Classes, scale, ws.GradLogits);
        k.Gemm(MatrixOperation.None, MatrixOperation.Transpose, b, MlpParameters.Hidden, Dataset.Classes, 1f, ws.GradLogits, Local(_parameterLeaves, Kernel2, device), 0f, ws.GradHidden);
        k.ReluBackward(ws.GradHidden, ws.Hidden, ws.GradHidden);
    }

    /// <summary>Layer 2's kernel and bias gradients, summed over <paramref name="rows"/> rows.</summary>
    private static void LayerTwoGradients(DeviceKernels k, DeviceBuffer hidden, DeviceBuffer gradLogits, int rows, DeviceBuffer[] gradients)
    {
        k.Gemm(MatrixOperation.Transpose, MatrixOperation.None, MlpParameters.Hidden, Dataset.Classes, rows, 1f, hidden, gradLogits, 0f, gradients[Kernel2]);
        k.ColumnSums(gradLogits, rows, Dataset.Classes, gradients[Bias2]);
    }

    /// <summary>Layer 1's kernel and bias gradients, summed over <paramref name="rows"/> rows.</summary>
    private static void LayerOneGradients(DeviceKernels k, DeviceBuffer x, DeviceBuffer gradHidden, int rows, DeviceBuffer[] gradients)
    {
        k.Gemm(MatrixOperation.Transpose, MatrixOperation.None, Dataset.Features, MlpParameters.Hidden, rows, 1f, x, gradHidden, 0f, gradients[Kernel1]);
        k.ColumnSums(gradHidden, rows, MlpParameters.Hidden, gradients[Bias1]);
    }

    /// <summary>
    /// On a multi-process provider each process scores only its own devices, so the loss and hit count are summed over
    /// the data axis (a collective of two numbers); every device then holds the global totals, which rank 0's slot keeps.
    /// A single process sums its ranks after the region instead, in rank order.
    /// </summary>
    private void ShareScores(SpmdContext context, DeviceWorkspace ws)
    {
        if (_provider.ProcessCount == 1)
        {
            return;
        }

        int rank = context.DeviceIndex;
        ws.Scores.CopyFrom([_rankLoss[rank], _rankCorrect[rank]]);
        context.AllReduce(ws.Scores, ws.Scores, ReduceOp.Sum, context.GetAxisGroup(DataAxis));
        double[] totals = ws.Scores.ToArray();
        lock (_rankLoss)
        {
            _sharedTotals = (totals[0], (int)totals[1]);
        }
    }

    private void Forward(DeviceKernels k, DeviceWorkspace ws, DeviceBuffer x, DeviceBuffer y, Device device)
    {
        int b = ws.Rows;
        k.Gemm(MatrixOperation.None, MatrixOperation.None, b, MlpParameters.Hidden, Dataset.Features, 1f, x, Local(_parameterLeaves, Kernel1, device), 0f, ws.Hidden);
        k.AddBias(ws.Hidden, b, MlpParameters.Hidden, Local(_parameterLeaves, Bias1, device));
        k.Relu(ws.Hidden, ws.Hidden);
        k.Gemm(MatrixOperation.None, MatrixOperation.None, b, Dataset.Classes, MlpParameters.Hidden, 1f, ws.Hidden, Local(_parameterLeaves, Kernel2, device), 0f, ws.Logits);
        k.AddBias(ws.Logits, b, Dataset.Classes, Local(_parameterLeaves, Bias2, device));
        k.SoftmaxCrossEntropy(ws.Logits, y, b, Dataset.Classes, ws.Probabilities, ws.Losses);
    }

    private (double Loss, int Correct) Score(DeviceWorkspace ws, DeviceBuffer y, int validRows)
    {
        _provider.CopyToHost<float>(ws.Losses, 0, ws.HostLosses);
        _provider.CopyToHost<float>(ws.Probabilities, 0, ws.HostProbabilities);
        int[] labels = ws.HostLabels;
        _provider.CopyToHost<int>(y, 0, labels);
        double loss = 0;
        int correct = 0;
        for (int r = 0; r < validRows; r++)
        {
            loss += ws.HostLosses[r];
            ReadOnlySpan<float> row = ws.HostProbabilities.AsSpan(r * Dataset.Classes, Dataset.Classes);
            if (TensorPrimitives.IndexOfMax(row) == labels[r])
            {
                correct++;
            }
        }

        return (loss, correct);
    }

    private static DeviceBuffer Local(GlobalArray[] leaves, int leaf, Device device) => leaves[leaf].GetShard(device).Buffer;
}
