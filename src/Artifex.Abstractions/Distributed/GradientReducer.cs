using System.Collections.Immutable;
using System.Diagnostics;

namespace Artifex.Distributed;

/// <summary>
/// Overlaps the gradient all-reduce with the backward pass, as PyTorch DDP's reducer does: one participant's gradient
/// buffers are registered once and packed into buckets in reverse registration order (the order a backward pass produces
/// them); as the backward pass finishes a layer, <see cref="MarkReady(int)"/> its gradients; a bucket whose gradients are
/// all ready starts its all-reduce at once on the device's communication thread, while the backward pass goes on; and
/// <see cref="Finish"/> waits and leaves the result in the gradients' own memory. Created by
/// <see cref="DataParallel.CreateGradientReducer"/>, once per device, and reused every step: a step allocates nothing.
/// </summary>
/// <remarks>
/// <para>
/// Buckets start strictly in order, so every participant issues the same collectives in the same order however its
/// gradients become ready. Without compression every element is summed in rank order and divided once, so the result has
/// the bits of <see cref="DataParallel.AllReduceGradients(Tree{DeviceArray}, ReduceOp, string)"/>.
/// </para>
/// <para>
/// Gradient accumulation: inside <see cref="NoSync"/>, ready gradients are accumulated on the device (added into the
/// bucket; with <see cref="GradientReducerOptions.GradientsAsBucketViews"/> the backward pass must add into the views
/// itself, as autograd does) and nothing is sent; the micro-step after the scope sends the sums. With K micro-steps per
/// step, <see cref="Finish"/> gives, for a mean, <c>(1/(N·K)) Σ over devices Σ over micro-steps gᵢₖ</c>: the mean of the
/// N·K micro-batch gradients, which is the gradient of the mean loss over the whole N·K-micro-batch step when the
/// micro-batches have equal sizes. It differs from one large batch's gradient only by rounding: each device first adds
/// its K gradients in micro-step order, the devices' sums are then added in rank order, and the result is divided by N
/// and then by K (two roundings instead of one).
/// </para>
/// </remarks>
public sealed class GradientReducer : IDisposable
{
    private readonly ICollectives _collectives;
    private readonly string _axisName;
    private readonly Device _device;
    private readonly DeviceArray[] _leaves;
    private readonly string[] _paths;
    private readonly int[] _leafBucket;
    private readonly int[] _leafSlot;
    private readonly bool[] _marked;
    private readonly GradientBucket[] _buckets;
    private readonly GradientBucketTiming[] _timings;
    private readonly bool _views;
    private int _markedCount;
    private int _microSteps;
    private int _nextLaunch;
    private int _noSyncDepth;
    private bool _disposed;

    internal GradientReducer(ICollectives collectives, Tree<DeviceArray> gradients, string axisName, GradientReducerOptions options)
    {
        _collectives = collectives;
        _axisName = axisName;
        Options = options;
        _views = options.GradientsAsBucketViews;
        ImmutableArray<KeyValuePair<TreePath, DeviceArray>> leaves = gradients.LeavesWithPaths();
        _paths = [.. leaves.Select(static leaf => leaf.Key.ToString())];
        _device = GradientLayout.Validate(leaves, options);
        (int[] leafBucket, int[][] bucketLeaves) = GradientLayout.Plan(leaves, options);
        _leafBucket = leafBucket;
        _leafSlot = new int[leaves.Length];
        _marked = new bool[leaves.Length];
        _buckets = new GradientBucket[bucketLeaves.Length];
        _timings = new GradientBucketTiming[bucketLeaves.Length];
        try
        {
            for (int b = 0; b < bucketLeaves.Length; b++)
            {
                _buckets[b] = GradientLayout.Allocate(b, bucketLeaves[b], leaves, options.Compression);
                for (int s = 0; s < bucketLeaves[b].Length; s++)
                {
                    _leafSlot[bucketLeaves[b][s]] = s;
                }
            }
        }
        catch
        {
            DisposeBuckets();
            throw;
        }

        _leaves = _views
            ? [.. Enumerable.Range(0, leaves.Length).Select(i => _buckets[_leafBucket[i]].Slots[_leafSlot[i]])]
            : [.. leaves.Select(static leaf => leaf.Value)];
        Gradients = _views ? gradients.Structure.Unflatten<DeviceArray>(_leaves) : gradients;
        ResetStep();
    }

    /// <summary>Gets the options.</summary>
    public GradientReducerOptions Options { get; }

    /// <summary>
    /// Gets the gradients the reducer reduces, in the registered tree's structure: the registered arrays, or with
    /// <see cref="GradientReducerOptions.GradientsAsBucketViews"/> views into the buckets (owned by the reducer) that the
    /// backward pass must write.
    /// </summary>
    public Tree<DeviceArray> Gradients { get; }

    /// <summary>Gets the number of buckets.</summary>
    public int BucketCount => _buckets.Length;

    /// <summary>Gets when each bucket's all-reduce started and finished in the last finished step, in launch order.</summary>
    public ReadOnlySpan<GradientBucketTiming> LastStepTimings => _timings;

    /// <summary>Gets the bucket a leaf belongs to (bucket 0 starts first).</summary>
    /// <param name="leafIndex">The leaf's index in the tree's leaf order.</param>
    /// <returns>The bucket index.</returns>
    public int GetBucket(int leafIndex) => _leafBucket[CheckLeaf(leafIndex)];

    /// <summary>
    /// Says that a leaf's gradient is complete for this micro-step (the backward pass will not write it again). When it
    /// completes its bucket, and every earlier bucket has started, the bucket's all-reduce starts now, without waiting.
    /// </summary>
    /// <param name="leafIndex">The leaf's index in the tree's leaf order.</param>
    /// <exception cref="ArgumentOutOfRangeException">No such leaf.</exception>
    /// <exception cref="InvalidOperationException">The leaf is already ready in this micro-step, or the call is not on the participant of the reducer's device.</exception>
    public void MarkReady(int leafIndex)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckLeaf(leafIndex);
        CheckParticipant();
        if (_marked[leafIndex])
        {
            throw new InvalidOperationException($"Gradient '{_paths[leafIndex]}' was already marked ready in this micro-step.");
        }

        GradientBucket bucket = _buckets[_leafBucket[leafIndex]];
        if (bucket.Launched)
        {
            throw new InvalidOperationException($"Gradient '{_paths[leafIndex]}': its bucket is already being reduced; call Finish before the next step.");
        }

        if (!_views)
        {
            Accumulate(bucket.Slots[_leafSlot[leafIndex]], _leaves[leafIndex]);
        }

        _marked[leafIndex] = true;
        bucket.Pending--;
        if (++_markedCount == _leaves.Length)
        {
            EndMicroStep();
        }
        else if (_noSyncDepth == 0)
        {
            LaunchReady();
        }
    }

    /// <summary>Says that a gradient is complete for this micro-step (see <see cref="MarkReady(int)"/>).</summary>
    /// <param name="gradient">One of <see cref="Gradients"/>' leaves.</param>
    /// <exception cref="ArgumentException">The array is not a leaf of <see cref="Gradients"/>.</exception>
    /// <exception cref="InvalidOperationException">As <see cref="MarkReady(int)"/>.</exception>
    public void MarkReady(DeviceArray gradient)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        int index = Array.IndexOf(_leaves, gradient);
        if (index < 0)
        {
            throw new ArgumentException($"{gradient} is not one of the reducer's gradients; pass a leaf of {nameof(Gradients)}.", nameof(gradient));
        }

        MarkReady(index);
    }

    /// <summary>
    /// Opens a gradient-accumulation scope (PyTorch DDP's <c>no_sync</c>): micro-steps completed inside it add their
    /// gradients on the device and send nothing; the first micro-step after it sends the sums. See the remarks of
    /// <see cref="GradientReducer"/> for how the result relates to one large batch.
    /// </summary>
    /// <returns>The scope; dispose it to end accumulation.</returns>
    /// <exception cref="NotSupportedException">A leaf is not Single (accumulation adds with the Single kernels).</exception>
    public GradientAccumulationScope NoSync()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int other = Array.FindIndex(_leaves, static leaf => leaf.ElementType != typeof(float));
        if (other >= 0 && !_views)
        {
            throw new NotSupportedException($"Gradient '{_paths[other]}' holds {_leaves[other].ElementType.Name}; accumulation adds Single gradients only.");
        }

        _noSyncDepth++;
        return new GradientAccumulationScope(this);
    }

    /// <summary>
    /// Waits for every bucket's all-reduce (starting any that a step made only of <see cref="NoSync"/> micro-steps left)
    /// and leaves the result in the gradients' memory; the reducer is then ready for the next step.
    /// </summary>
    /// <exception cref="InvalidOperationException">Inside <see cref="NoSync"/>, or some gradients of the current micro-step were never marked ready (named), or no micro-step completed since the last call.</exception>
    /// <exception cref="ArgumentException">The participants disagreed on a bucket (different trees or bucket sizes).</exception>
    public void Finish()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckParticipant();
        ThrowIfNotFinishable();
        try
        {
            LaunchAll();
            foreach (GradientBucket bucket in _buckets)
            {
                Complete(bucket);
            }
        }
        finally
        {
            ResetStep();
        }
    }

    /// <summary>Frees the buckets (and the views of <see cref="Gradients"/> in bucket-view mode). Call it after the last step, outside any region.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            DisposeBuckets();
        }
    }

    internal void EndNoSync()
    {
        if (_noSyncDepth > 0)
        {
            _noSyncDepth--;
        }
    }

    private void Accumulate(DeviceArray slot, DeviceArray gradient)
    {
        DeviceProvider provider = slot.Buffer.Provider;
        if (_microSteps == 0)
        {
            provider.Copy(gradient.Buffer, 0, slot.Buffer, 0, gradient.Length);
        }
        else
        {
            provider.Kernels.Axpy(1f, gradient.Buffer, slot.Buffer);
        }
    }

    private void EndMicroStep()
    {
        _microSteps++;
        _markedCount = 0;
        Array.Clear(_marked);
        if (_noSyncDepth == 0)
        {
            LaunchReady();
            return;
        }

        foreach (GradientBucket bucket in _buckets)
        {
            bucket.Pending = bucket.Leaves.Length;
        }
    }

    /// <summary>Starts the ready buckets, strictly in order, so every participant issues the same collectives in the same order.</summary>
    private void LaunchReady()
    {
        while (_nextLaunch < _buckets.Length && _buckets[_nextLaunch].Pending == 0)
        {
            Launch(_buckets[_nextLaunch++]);
        }
    }

    private void LaunchAll()
    {
        while (_nextLaunch < _buckets.Length)
        {
            Launch(_buckets[_nextLaunch++]);
        }
    }

    private void Launch(GradientBucket bucket)
    {
        bucket.Launched = true;
        bucket.Started = Stopwatch.GetTimestamp();
        ReduceOp op = Options.ReduceType;
        if (bucket.Compressed is { } half)
        {
            // DDP's fp16 hook: divide before the cast, so the Half sum cannot overflow where the mean would not.
            float divisor = op == ReduceOp.Mean ? _collectives.AxisSize(_axisName) : 1f;
            bucket.Flat.Buffer.Provider.Kernels.Convert(bucket.Flat.Buffer, half.Buffer, divisor);
            bucket.Request = _collectives.StartAllReduceInPlace(half, ReduceOp.Sum, _axisName);
        }
        else
        {
            bucket.Request = _collectives.StartAllReduceInPlace(bucket.Flat, op, _axisName);
        }
    }

    private void Complete(GradientBucket bucket)
    {
        bucket.Request.Wait();
        long finished = bucket.Request.FinishedTimestamp;
        _timings[bucket.Index] = new GradientBucketTiming(bucket.Index, bucket.Bytes, bucket.Started, finished != 0 ? finished : Stopwatch.GetTimestamp());
        DeviceProvider provider = bucket.Flat.Buffer.Provider;
        if (bucket.Compressed is { } half)
        {
            provider.Kernels.Convert(half.Buffer, bucket.Flat.Buffer);
        }

        if (_microSteps > 1 && Options.ReduceType == ReduceOp.Mean)
        {
            provider.Kernels.Divide(bucket.Flat.Buffer, _microSteps);
        }

        if (!_views)
        {
            for (int s = 0; s < bucket.Leaves.Length; s++)
            {
                DeviceArray leaf = _leaves[bucket.Leaves[s]];
                provider.Copy(bucket.Slots[s].Buffer, 0, leaf.Buffer, 0, leaf.Length);
            }
        }
    }

    private void ThrowIfNotFinishable()
    {
        if (_noSyncDepth > 0)
        {
            throw new InvalidOperationException("Finish was called inside NoSync; end the accumulation scope first.");
        }

        if (_markedCount > 0)
        {
            string missing = string.Join(", ", Enumerable.Range(0, _leaves.Length).Where(i => !_marked[i]).Select(i => $"'{_paths[i]}'"));
            throw new InvalidOperationException($"Finish was called before every gradient of the micro-step was marked ready; missing: {missing}.");
        }

        if (_microSteps == 0 && _leaves.Length > 0)
        {
            throw new InvalidOperationException("Finish was called before any gradient was marked ready since the last step.");
        }
    }

    private void ResetStep()
    {
        _microSteps = 0;
        _markedCount = 0;
        _nextLaunch = 0;
        Array.Clear(_marked);
        foreach (GradientBucket bucket in _buckets)
        {
            bucket.Pending = bucket.Leaves.Length;
            bucket.Launched = false;
            bucket.Request = CollectiveRequest.Completed;
        }
    }

    private void CheckParticipant()
    {
        if (SpmdContext.Current?.Device != _device)
        {
            throw new InvalidOperationException(
                $"The gradient reducer of {_device} was used on {SpmdContext.Current?.Device.ToString() ?? "a thread outside any SPMD region"}; use it inside a region, on the participant of its device.");
        }
    }

    private int CheckLeaf(int leafIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(leafIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(leafIndex, _leafBucket.Length);
        return leafIndex;
    }

    private void DisposeBuckets()
    {
        foreach (GradientBucket? bucket in _buckets)
        {
            bucket?.Dispose();
        }
    }
}
