using System.Collections.Immutable;
using System.Globalization;

namespace Artifex.Distributed;

/// <summary>
/// Adam with its optimizer state sharded over the data axis: ZeRO stage 1, as PyTorch's
/// <c>ZeroRedundancyOptimizer</c> and DeepSpeed's stage 1. One instance per participant, over that participant's replicated
/// Single parameters; each participant keeps Adam's two moments for only its 1/N of the elements, so the optimizer state
/// per device is divided by N.
/// </summary>
/// <remarks>
/// <para>
/// Layout: the parameter leaves, flattened in tree order, form one range of <see cref="Length"/> (T) elements, padded
/// with zeros to <see cref="PaddedLength"/> P = ⌈T/N⌉·N; participant r owns elements [r·P/N, (r+1)·P/N). Every buffer
/// is allocated once, by the constructor: a flat gradient buffer (P), the reduced gradient shard (P/N), the two moment
/// shards (P/N each), the parameter shard (P/N) and a flat parameter buffer (P) that receives the all-gather.
/// </para>
/// <para>
/// <see cref="Step"/> packs the gradient leaves into the flat buffer, sums it over the axis in rank order while keeping
/// this participant's block (one <see cref="ICollectives.PsumScatter(DeviceArray, DeviceArray, string)"/>), divides that
/// block once by N, runs the provider's Adam kernel on the block and on this participant's part of the parameters, then
/// gathers every participant's updated block (one <see cref="ICollectives.AllGather(DeviceArray, DeviceArray, string)"/>)
/// and copies the result into the parameter leaves. The mean is the contract's (the sum in rank order, then one
/// division), and Adam is element-wise, so where a provider's reduce-scatter sums in the same order as its all-reduce
/// (the CPU and MPI providers) the parameters are bitwise identical to replicated Adam after
/// <see cref="DataParallel.AllReduceGradientsInPlace"/>. The parameter leaves stay the truth: each step reads this
/// participant's part of them, so they may be replaced (a checkpoint loaded) between steps.
/// </para>
/// <para>
/// Collectives are reached only through <see cref="ICollectives"/>; a step allocates nothing once it has seen the
/// gradient tree (a tree is checked once, then remembered by reference, which is safe because trees are immutable).
/// </para>
/// </remarks>
/// <example>
/// One instance per device, built before the region; one step per batch inside it:
/// <code>
/// var dataParallel = new DataParallel();
/// ShardedAdam[] optimizers = [.. mesh.Devices.Select((d, r) => dataParallel.CreateShardedAdam(ParametersOn(d), r, mesh.Size))];
/// provider.RunSpmd(mesh, context =>
/// {
///     Tree&lt;DeviceArray&gt; gradients = Backward(context.Device);   // this device's gradients, same structure
///     optimizers[context.DeviceIndex].Step(gradients, AdamStep.Default(1e-3f, step), "data");
/// });
/// </code>
/// </example>
public sealed class ShardedAdam : IDisposable
{
    private readonly ICollectives _collectives;
    private readonly DeviceProvider _provider;
    private readonly Device _device;
    private readonly DeviceArray[] _parameters;
    private readonly ImmutableArray<TreePath> _paths;
    private readonly long[] _offsets;
    private readonly Segment[] _ownedSegments;
    private readonly DeviceArray<float> _flatGradients;
    private readonly DeviceArray<float> _gradientShard;
    private readonly DeviceArray<float> _firstMoment;
    private readonly DeviceArray<float> _secondMoment;
    private readonly DeviceArray<float> _parameterShard;
    private readonly DeviceArray<float> _flatParameters;
    private Tree<DeviceArray>? _checkedGradients;
    private DeviceArray[] _gradientLeaves = [];
    private bool _disposed;

    /// <summary>Creates this participant's optimizer: allocates its buffers, with the moments at zero.</summary>
    /// <param name="collectives">The back-end every collective goes through (usually from <see cref="DataParallel.CreateShardedAdam"/>).</param>
    /// <param name="parameters">This participant's replica of the parameters: Single leaves on one device, updated in place by <see cref="Step"/>. They stay the caller's.</param>
    /// <param name="rank">This participant's position along the axis <see cref="Step"/> will be given.</param>
    /// <param name="shardCount">The number of participants along that axis (N).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shardCount"/> is below 1, or <paramref name="rank"/> is outside [0, <paramref name="shardCount"/>).</exception>
    /// <exception cref="ArgumentException">The tree has no elements, or a leaf (named by its path) is not Single, is disposed, or lies on another device than the first leaf.</exception>
    public ShardedAdam(ICollectives collectives, Tree<DeviceArray> parameters, int rank, int shardCount)
    {
        ArgumentNullException.ThrowIfNull(collectives);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        if (rank < 0 || rank >= shardCount)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"The rank must lie in [0, {shardCount}) for {shardCount} shards.");
        }

        ImmutableArray<KeyValuePair<TreePath, DeviceArray>> leaves = parameters.LeavesWithPaths();
        _parameters = [.. leaves.Select(static l => l.Value)];
        _paths = [.. leaves.Select(static l => l.Key)];
        _offsets = new long[_parameters.Length + 1];
        _device = CheckParameters(_parameters, _paths, _offsets);
        _provider = _device.Provider!;
        _collectives = collectives;
        Rank = rank;
        ShardCount = shardCount;
        Length = _offsets[^1];
        ShardLength = (Length + shardCount - 1) / shardCount;
        PaddedLength = ShardLength * shardCount;
        _ownedSegments = OwnedSegments(_offsets, rank * ShardLength, ShardLength);

        var made = new List<DeviceArray<float>>(6);
        try
        {
            _flatGradients = Zeros(made, PaddedLength);
            _gradientShard = Zeros(made, ShardLength);
            _firstMoment = Zeros(made, ShardLength);
            _secondMoment = Zeros(made, ShardLength);
            _parameterShard = Zeros(made, ShardLength);
            _flatParameters = Zeros(made, PaddedLength);
        }
        catch
        {
            made.ForEach(static a => a.Dispose());
            throw;
        }
    }

    /// <summary>Gets this participant's position along the axis.</summary>
    public int Rank { get; }

    /// <summary>Gets the number of participants the state is sharded over (N).</summary>
    public int ShardCount { get; }

    /// <summary>Gets the number of parameter elements (T), all leaves together.</summary>
    public long Length { get; }

    /// <summary>Gets the padded length P = ⌈T/N⌉·N of the flat range.</summary>
    public long PaddedLength { get; }

    /// <summary>Gets the number of elements this participant owns (P/N = ⌈T/N⌉).</summary>
    public long ShardLength { get; }

    /// <summary>Gets the bytes of optimizer state this participant holds: Adam's two Single moments for its shard, ⌈T/N⌉·2·4.</summary>
    public long StateBytes => ShardLength * 2 * sizeof(float);

    /// <summary>Gets the bytes of optimizer state each device holds when Adam is replicated instead: T·2·4.</summary>
    public long ReplicatedStateBytes => Length * 2 * sizeof(float);

    /// <summary>
    /// Gets the bytes of the buffers this participant holds besides the optimizer state: the flat gradient and parameter
    /// buffers (P each) and the reduced gradient and parameter shards (P/N each), (2P + 2P/N)·4.
    /// </summary>
    public long WorkspaceBytes => ((2 * PaddedLength) + (2 * ShardLength)) * sizeof(float);

    /// <summary>
    /// One Adam step: reduce-scatter the gradients (sum in rank order, then one division by N), Adam on this participant's
    /// shard, all-gather the updated shards into the parameter leaves. Every participant of the axis must call it, in the
    /// same order as its other collectives. Everything is checked before anything changes.
    /// </summary>
    /// <param name="gradients">This participant's gradients: the parameters' leaf count, and per leaf the same shape, Single, on the same device. Only read.</param>
    /// <param name="settings">Adam's hyper-parameters and 1-based step number (the same on every participant).</param>
    /// <param name="axisName">The axis to reduce over; its size must be <see cref="ShardCount"/> and this participant's position <see cref="Rank"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range or the step is not positive (the Adam kernel's rules).</exception>
    /// <exception cref="ArgumentException">The gradients do not match the parameters (the leaf's path is named), or the axis size is not <see cref="ShardCount"/>.</exception>
    /// <exception cref="InvalidOperationException">This participant's position along the axis is not <see cref="Rank"/>; or outside a region that binds the axis.</exception>
    /// <exception cref="ObjectDisposedException">The optimizer, a parameter or a gradient has been disposed.</exception>
    public void Step(Tree<DeviceArray> gradients, AdamStep settings, string axisName)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        ArgumentNullException.ThrowIfNull(axisName);
        ObjectDisposedException.ThrowIf(_disposed, this);
        settings.ThrowIfInvalid(nameof(settings));
        DeviceArray[] gradientLeaves = CheckGradients(gradients);
        CheckAlive();
        CheckAxis(axisName);

        for (int leaf = 0; leaf < _parameters.Length; leaf++)
        {
            _provider.Copy(gradientLeaves[leaf].Buffer, 0, _flatGradients.Buffer, _offsets[leaf], gradientLeaves[leaf].Length);
        }

        _collectives.PsumScatter(_flatGradients, _gradientShard, axisName);
        if (ShardCount > 1)
        {
            _provider.Kernels.Divide(_gradientShard.Buffer, ShardCount);
        }

        foreach (Segment segment in _ownedSegments)
        {
            _provider.Copy(_parameters[segment.Leaf].Buffer, segment.LeafOffset, _parameterShard.Buffer, segment.ShardOffset, segment.Count);
        }

        _provider.Kernels.AdamUpdate(_parameterShard.Buffer, _gradientShard.Buffer, _firstMoment.Buffer, _secondMoment.Buffer, settings);
        _collectives.AllGather(_parameterShard, _flatParameters, axisName);
        for (int leaf = 0; leaf < _parameters.Length; leaf++)
        {
            _provider.Copy(_flatParameters.Buffer, _offsets[leaf], _parameters[leaf].Buffer, 0, _parameters[leaf].Length);
        }
    }

    /// <summary>Frees the optimizer's buffers (not the parameters). Calling it more than once has no effect.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _flatGradients.Dispose();
        _gradientShard.Dispose();
        _firstMoment.Dispose();
        _secondMoment.Dispose();
        _parameterShard.Dispose();
        _flatParameters.Dispose();
    }

    /// <summary>Returns e.g. <c>ShardedAdam(rank 1 of 4, 32 of 128 elements) on cpu:1</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"ShardedAdam(rank {Rank} of {ShardCount}, {ShardLength} of {PaddedLength} elements) on {_device}");

    /// <summary>Checks the parameter leaves and fills the flat offsets; returns their device.</summary>
    private static Device CheckParameters(DeviceArray[] parameters, ImmutableArray<TreePath> paths, long[] offsets)
    {
        if (parameters.Length == 0)
        {
            throw new ArgumentException("ZeRO needs at least one parameter leaf; the tree has none.", nameof(parameters));
        }

        Device device = parameters[0].Device;
        for (int leaf = 0; leaf < parameters.Length; leaf++)
        {
            DeviceArray p = parameters[leaf];
            string problem = p.ElementType != typeof(float) ? $"holds {p.ElementType.Name} elements; Adam's kernel takes Single"
                : p.IsDisposed ? "is disposed"
                : p.Device != device ? $"lies on {p.Device}, but the first leaf on {device}; one participant's parameters share one device"
                : string.Empty;
            if (problem.Length > 0)
            {
                throw new ArgumentException($"Parameter leaf '{paths[leaf]}' {problem}.", nameof(parameters));
            }

            offsets[leaf + 1] = offsets[leaf] + p.Length;
        }

        if (offsets[^1] == 0)
        {
            throw new ArgumentException("ZeRO needs at least one parameter element; every leaf is empty.", nameof(parameters));
        }

        return device;
    }

    /// <summary>The parts of the leaves that fall in [start, start + count) of the flat range, with where each goes in the shard.</summary>
    private static Segment[] OwnedSegments(long[] offsets, long start, long count)
    {
        var segments = new List<Segment>();
        for (int leaf = 0; leaf < offsets.Length - 1; leaf++)
        {
            long from = Math.Max(start, offsets[leaf]);
            long to = Math.Min(start + count, offsets[leaf + 1]);
            if (to > from)
            {
                segments.Add(new Segment(leaf, from - offsets[leaf], from - start, to - from));
            }
        }

        return [.. segments];
    }

    private DeviceArray<float> Zeros(List<DeviceArray<float>> made, long length)
    {
        DeviceArray<float> array = DeviceArray.Allocate<float>(_device, length);
        made.Add(array);
        _provider.Kernels.Fill(array.Buffer, 0f);
        return array;
    }

    /// <summary>Checks a gradient tree against the parameters the first time it is seen; returns its leaves.</summary>
    private DeviceArray[] CheckGradients(Tree<DeviceArray> gradients)
    {
        if (ReferenceEquals(gradients, _checkedGradients))
        {
            return _gradientLeaves;
        }

        ImmutableArray<KeyValuePair<TreePath, DeviceArray>> leaves = gradients.LeavesWithPaths();
        if (leaves.Length != _parameters.Length)
        {
            throw new ArgumentException($"The gradients have {leaves.Length} leaves, but the parameters {_parameters.Length}.", nameof(gradients));
        }

        for (int leaf = 0; leaf < leaves.Length; leaf++)
        {
            DeviceArray g = leaves[leaf].Value;
            DeviceArray p = _parameters[leaf];
            string problem = g.ElementType != typeof(float) ? $"holds {g.ElementType.Name} elements, not Single"
                : !g.Shape.AsSpan().SequenceEqual(p.Shape.AsSpan()) ? $"has shape {Python.Shape(g.Shape.AsSpan())}, but parameter '{_paths[leaf]}' {Python.Shape(p.Shape.AsSpan())}"
                : g.Device != _device ? $"lies on {g.Device}, but the parameters on {_device}"
                : string.Empty;
            if (problem.Length > 0)
            {
                throw new ArgumentException($"Gradient leaf '{leaves[leaf].Key}' {problem}.", nameof(gradients));
            }
        }

        _gradientLeaves = [.. leaves.Select(static l => l.Value)];
        _checkedGradients = gradients;
        return _gradientLeaves;
    }

    private void CheckAlive()
    {
        for (int leaf = 0; leaf < _parameters.Length; leaf++)
        {
            ObjectDisposedException.ThrowIf(_parameters[leaf].IsDisposed, _parameters[leaf]);
            ObjectDisposedException.ThrowIf(_gradientLeaves[leaf].IsDisposed, _gradientLeaves[leaf]);
        }
    }

    private void CheckAxis(string axisName)
    {
        int size = _collectives.AxisSize(axisName);
        if (size != ShardCount)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Axis '{axisName}' has {size} participants, but this optimizer state is sharded over {ShardCount}."), nameof(axisName));
        }

        int index = _collectives.AxisIndex(axisName);
        if (index != Rank)
        {
            throw new InvalidOperationException(
                string.Create(CultureInfo.InvariantCulture, $"This optimizer holds rank {Rank}'s shard, but the participant is rank {index} along axis '{axisName}'."));
        }
    }

    /// <summary>A run of one parameter leaf inside this participant's shard.</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Auto)]
    private readonly record struct Segment(int Leaf, long LeafOffset, long ShardOffset, long Count);
}
