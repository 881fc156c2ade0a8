using System.Collections.Immutable;

namespace Artifex;

/// <summary>
/// One participant of an SPMD region (JAX <c>shard_map</c> / <c>pmap</c>): which device it runs on, which axis
/// names are bound, and the collectives over those axes.
/// </summary>
/// <remarks>
/// A provider creates one context per device when it runs a region and makes it <see cref="Current"/> on that
/// device's thread (an <see cref="AsyncLocal{T}"/>, so it flows into tasks the body starts and is invisible to
/// every other thread). Public members validate this participant's own arguments and then call the provider's
/// <c>...Core</c> member; disagreements between participants are detected inside the collective.
/// </remarks>
public abstract class SpmdContext
{
    private static readonly AsyncLocal<SpmdContext?> s_current = new();

    private readonly Dictionary<string, AxisGroup> _singleAxisGroups = new(StringComparer.Ordinal);
    private readonly List<AxisGroup> _tupleGroups = [];

    /// <summary>Initializes a participant.</summary>
    /// <param name="mesh">The region's mesh; every axis name of it is bound.</param>
    /// <param name="deviceIndex">The participant's row-major position in the mesh.</param>
    protected SpmdContext(Mesh mesh, int deviceIndex)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        Mesh = mesh;
        DeviceIndex = deviceIndex;
        Coordinate = [.. mesh.GetCoordinate(deviceIndex)];
    }

    /// <summary>Gets the participant of the SPMD region running on the current thread, or <see langword="null"/> outside any region.</summary>
    public static SpmdContext? Current => s_current.Value;

    /// <summary>Gets the region's mesh.</summary>
    public Mesh Mesh { get; }

    /// <summary>Gets the participant's row-major position in the mesh.</summary>
    public int DeviceIndex { get; }

    /// <summary>Gets the participant's device.</summary>
    public Device Device => Mesh.Devices[DeviceIndex];

    /// <summary>Gets the participant's mesh coordinate.</summary>
    public ImmutableArray<int> Coordinate { get; }

    /// <summary>Gets the axis names bound in this region.</summary>
    public ImmutableArray<string> BoundAxisNames => Mesh.AxisNames;

    /// <summary>Gets the participant's position along an axis (JAX <c>lax.axis_index</c>).</summary>
    /// <param name="axisName">A bound axis name.</param>
    /// <returns>The index.</returns>
    /// <exception cref="InvalidOperationException">The name is not bound ("unbound axis name: …").</exception>
    public int AxisIndex(string axisName) => GetAxisGroup(axisName).Rank;

    /// <summary>Gets the size of an axis (JAX <c>lax.axis_size</c>).</summary>
    /// <param name="axisName">A bound axis name.</param>
    /// <returns>The size.</returns>
    /// <exception cref="InvalidOperationException">The name is not bound.</exception>
    public int AxisSize(string axisName) => GetAxisGroup(axisName).Size;

    /// <summary>Resolves one bound axis to this participant's group.</summary>
    /// <param name="axisName">The axis name.</param>
    /// <returns>The group (cached; no allocation after the first call).</returns>
    /// <exception cref="InvalidOperationException">The name is not bound.</exception>
    public AxisGroup GetAxisGroup(string axisName)
    {
        ArgumentNullException.ThrowIfNull(axisName);
        if (_singleAxisGroups.TryGetValue(axisName, out AxisGroup? group))
        {
            return group;
        }

        group = CreateGroup([axisName]);
        _singleAxisGroups.Add(axisName, group);
        return group;
    }

    /// <summary>Resolves an ordered tuple of bound axes to this participant's group.</summary>
    /// <param name="axisNames">The axis names, major first.</param>
    /// <returns>The group (cached).</returns>
    /// <exception cref="InvalidOperationException">A name is not bound.</exception>
    /// <exception cref="ArgumentException">The tuple is empty or repeats a name.</exception>
    public AxisGroup GetAxisGroup(IReadOnlyList<string> axisNames)
    {
        ArgumentNullException.ThrowIfNull(axisNames);
        if (axisNames.Count == 1)
        {
            return GetAxisGroup(axisNames[0]);
        }

        foreach (AxisGroup cached in _tupleGroups)
        {
            if (SameNames(cached.Names, axisNames))
            {
                return cached;
            }
        }

        AxisGroup group = CreateGroup([.. axisNames]);
        _tupleGroups.Add(group);
        return group;
    }

    /// <summary>Reduces <paramref name="input"/> over an axis group into <paramref name="output"/> on every participant.</summary>
    /// <param name="input">This participant's value.</param>
    /// <param name="output">Receives the result; may be <paramref name="input"/> (in place). Same element type and length.</param>
    /// <param name="op">The reduction.</param>
    /// <param name="group">The axis group.</param>
    /// <exception cref="ArgumentException">The arrays do not fit, or the participants disagree on shape, element type or op (naming the axis and ranks). No buffer changes.</exception>
    /// <exception cref="TimeoutException">A participant never arrived within the collective timeout.</exception>
    public void AllReduce(DeviceArray input, DeviceArray output, ReduceOp op, AxisGroup group)
    {
        ValidateLocal(input, output, group);
        if (op is < ReduceOp.Mean or > ReduceOp.Min)
        {
            throw new ArgumentOutOfRangeException(nameof(op), op, "Undefined reduce op.");
        }

        RequireSameShape(input, output, input.Length);
        AllReduceCore(input.Buffer, output.Buffer, op, group);
    }

    /// <summary>
    /// Reduces over an axis group with a choice of <see cref="Determinism"/>. With <see cref="Determinism.Reproducible"/>, a
    /// Sum or Mean of Single or Half values depends only on the multiset of the participants' values (scheme
    /// <see cref="ReproducibleSum.Version"/>; a Mean is scaled by 1/size inside the one rounding); Max and Min give a canonical
    /// NaN; integer reductions are unchanged.
    /// </summary>
    /// <param name="input">This participant's value.</param>
    /// <param name="output">Receives the result; may be <paramref name="input"/>.</param>
    /// <param name="op">The reduction.</param>
    /// <param name="group">The axis group.</param>
    /// <param name="determinism">The bitwise promise.</param>
    /// <exception cref="NotSupportedException">Reproducible on Double elements (not covered by this version of the scheme), or a provider without reproducible collectives.</exception>
    /// <exception cref="ArgumentException">As <see cref="AllReduce(DeviceArray, DeviceArray, ReduceOp, AxisGroup)"/>; and, when reproducible, a participant's value outside the window (|x| &gt; 2^30 or ±Inf), named with its rank, index and value, before any buffer changes.</exception>
    public void AllReduce(DeviceArray input, DeviceArray output, ReduceOp op, AxisGroup group, Determinism determinism)
    {
        ValidateLocal(input, output, group);
        if (op is < ReduceOp.Mean or > ReduceOp.Min)
        {
            throw new ArgumentOutOfRangeException(nameof(op), op, "Undefined reduce op.");
        }

        CheckDeterminism(determinism, input.ElementType);
        RequireSameShape(input, output, input.Length);
        AllReduceCore(input.Buffer, output.Buffer, op, group, determinism);
    }

    /// <summary>Reduce-scatter (sum) with a choice of <see cref="Determinism"/>; see <see cref="AllReduce(DeviceArray, DeviceArray, ReduceOp, AxisGroup, Determinism)"/>.</summary>
    /// <param name="input">This participant's value of <c>size × output.Length</c> elements.</param>
    /// <param name="output">Receives this participant's block of the sum.</param>
    /// <param name="group">The axis group.</param>
    /// <param name="determinism">The bitwise promise.</param>
    /// <exception cref="NotSupportedException">Reproducible on Double elements, or a provider without reproducible collectives.</exception>
    /// <exception cref="ArgumentException">The arrays do not fit, the participants disagree, or a value is outside the reproducible window.</exception>
    public void ReduceScatter(DeviceArray input, DeviceArray output, AxisGroup group, Determinism determinism)
    {
        ValidateLocal(input, output, group);
        CheckDeterminism(determinism, input.ElementType);
        RequireLength(input, output.Length * group.Size, "psum_scatter input");
        ReduceScatterCore(input.Buffer, output.Buffer, group, determinism);
    }

    /// <summary>Gathers every participant's <paramref name="input"/> into <paramref name="output"/>, in rank order.</summary>
    /// <param name="input">This participant's value.</param>
    /// <param name="output">Receives <c>size × input.Length</c> elements: rank 0's block first.</param>
    /// <param name="group">The axis group.</param>
    /// <exception cref="ArgumentException">The arrays do not fit, or the participants disagree.</exception>
    public void AllGather(DeviceArray input, DeviceArray output, AxisGroup group)
    {
        ValidateLocal(input, output, group);
        RequireLength(output, input.Length * group.Size, "all_gather output");
        AllGatherCore(input.Buffer, output.Buffer, group);
    }

    /// <summary>Sums over the group and leaves block <c>rank</c> of the sum on each participant (JAX <c>psum_scatter(tiled=True)</c>).</summary>
    /// <param name="input">This participant's value of <c>size × output.Length</c> elements.</param>
    /// <param name="output">Receives this participant's block of the sum.</param>
    /// <param name="group">The axis group.</param>
    /// <exception cref="ArgumentException">The arrays do not fit, or the participants disagree.</exception>
    public void ReduceScatter(DeviceArray input, DeviceArray output, AxisGroup group)
    {
        ValidateLocal(input, output, group);
        RequireLength(input, output.Length * group.Size, "psum_scatter input");
        ReduceScatterCore(input.Buffer, output.Buffer, group);
    }

    /// <summary>Copies the root participant's <paramref name="input"/> into every participant's <paramref name="output"/>.</summary>
    /// <param name="input">The value; only the root's is read.</param>
    /// <param name="output">Receives the root's value; may be <paramref name="input"/>.</param>
    /// <param name="root">The root's rank in the group.</param>
    /// <param name="group">The axis group.</param>
    /// <exception cref="ArgumentException">The arrays do not fit, or the participants disagree (including on the root).</exception>
    public void Broadcast(DeviceArray input, DeviceArray output, int root, AxisGroup group)
    {
        ValidateLocal(input, output, group);
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, group.Size);
        RequireSameShape(input, output, input.Length);
        BroadcastCore(input.Buffer, output.Buffer, root, group);
    }

    /// <summary>Waits until every participant of the group has arrived.</summary>
    /// <param name="group">The axis group.</param>
    public void Barrier(AxisGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        RequireOwnGroup(group);
        BarrierCore(group);
    }

    /// <summary>Makes a participant the ambient context of the current thread, for the provider that runs it.</summary>
    /// <param name="context">The participant, or <see langword="null"/> to unbind.</param>
    protected static void SetCurrent(SpmdContext? context) => s_current.Value = context;

    /// <summary>The provider's all-reduce; local arguments are already validated.</summary>
    /// <param name="input">The input buffer.</param>
    /// <param name="output">The output buffer (may equal the input).</param>
    /// <param name="op">The reduction.</param>
    /// <param name="group">The group.</param>
    protected abstract void AllReduceCore(DeviceBuffer input, DeviceBuffer output, ReduceOp op, AxisGroup group);

    /// <summary>The provider's all-reduce with a determinism choice; the default runs the rank-ordered one and has no reproducible form.</summary>
    /// <param name="input">The input buffer.</param>
    /// <param name="output">The output buffer (may equal the input).</param>
    /// <param name="op">The reduction.</param>
    /// <param name="group">The group.</param>
    /// <param name="determinism">The bitwise promise.</param>
    /// <exception cref="NotSupportedException">Reproducible, unless overridden.</exception>
    protected virtual void AllReduceCore(DeviceBuffer input, DeviceBuffer output, ReduceOp op, AxisGroup group, Determinism determinism)
    {
        if (determinism != Determinism.RankOrdered)
        {
            throw new NotSupportedException($"This provider has no {determinism} collectives.");
        }

        AllReduceCore(input, output, op, group);
    }

    /// <summary>The provider's reduce-scatter with a determinism choice; the default has no reproducible form.</summary>
    /// <param name="input">The input buffer.</param>
    /// <param name="output">The output buffer.</param>
    /// <param name="group">The group.</param>
    /// <param name="determinism">The bitwise promise.</param>
    /// <exception cref="NotSupportedException">Reproducible, unless overridden.</exception>
    protected virtual void ReduceScatterCore(DeviceBuffer input, DeviceBuffer output, AxisGroup group, Determinism determinism)
    {
        if (determinism != Determinism.RankOrdered)
        {
            throw new NotSupportedException($"This provider has no {determinism} collectives.");
        }

        ReduceScatterCore(input, output, group);
    }

    /// <summary>The provider's all-gather; local arguments are already validated.</summary>
    /// <param name="input">The input buffer.</param>
    /// <param name="output">The output buffer.</param>
    /// <param name="group">The group.</param>
    protected abstract void AllGatherCore(DeviceBuffer input, DeviceBuffer output, AxisGroup group);

    /// <summary>The provider's reduce-scatter (sum); local arguments are already validated.</summary>
    /// <param name="input">The input buffer.</param>
    /// <param name="output">The output buffer.</param>
    /// <param name="group">The group.</param>
    protected abstract void ReduceScatterCore(DeviceBuffer input, DeviceBuffer output, AxisGroup group);

    /// <summary>The provider's broadcast; local arguments are already validated.</summary>
    /// <param name="input">The input buffer.</param>
    /// <param name="output">The output buffer.</param>
    /// <param name="root">The root rank.</param>
    /// <param name="group">The group.</param>
    protected abstract void BroadcastCore(DeviceBuffer input, DeviceBuffer output, int root, AxisGroup group);

    /// <summary>The provider's barrier.</summary>
    /// <param name="group">The group.</param>
    protected abstract void BarrierCore(AxisGroup group);

    internal static InvalidOperationException UnboundAxis(string name, SpmdContext? context) =>
        new(ErrorMessages.UnboundAxisName(name, context?.BoundAxisNames ?? []));

    private static bool SameNames(ImmutableArray<string> a, IReadOnlyList<string> b)
    {
        if (a.Length != b.Count)
        {
            return false;
        }

        for (int i = 0; i < a.Length; i++)
        {
            if (!string.Equals(a[i], b[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private static void RequireSameShape(DeviceArray input, DeviceArray output, long length) =>
        RequireLength(output, length, "output");

    private static void RequireLength(DeviceArray array, long length, string what)
    {
        if (array.Length != length)
        {
            throw new ArgumentException($"The {what} must hold {length} elements, but {array} holds {array.Length}.", nameof(array));
        }
    }

    private AxisGroup CreateGroup(ImmutableArray<string> names)
    {
        if (names.Length == 0)
        {
            throw new ArgumentException("A collective needs at least one axis name.", nameof(names));
        }

        var axes = new int[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            int axis = Mesh.IndexOfAxis(names[i] ?? throw new ArgumentException("Axis names must not be null.", nameof(names)));
            if (axis < 0)
            {
                throw UnboundAxis(names[i], this);
            }

            if (Array.IndexOf(axes, axis, 0, i) >= 0)
            {
                throw new ArgumentException($"Axis '{names[i]}' appears more than once in {Python.Tuple(names.Select(Python.Str))}.", nameof(names));
            }

            axes[i] = axis;
        }

        return new AxisGroup(Mesh, names, axes, Coordinate);
    }

    private void RequireOwnGroup(AxisGroup group)
    {
        if (!ReferenceEquals(group.Mesh, Mesh) || group.Coordinate != Coordinate)
        {
            throw new ArgumentException($"Axis group {group} was resolved by another participant or region; resolve it with GetAxisGroup.", nameof(group));
        }
    }

    private void ValidateLocal(DeviceArray input, DeviceArray output, AxisGroup group)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(group);
        RequireOwnGroup(group);
        ObjectDisposedException.ThrowIf(input.IsDisposed, input);
        ObjectDisposedException.ThrowIf(output.IsDisposed, output);
        if (input.Device != Device || output.Device != Device)
        {
            throw new ArgumentException($"The participant on {Device} passed {input} and {output}; both must live on {Device}.", nameof(input));
        }

        if (input.ElementType != output.ElementType)
        {
            throw new ArgumentException($"Input and output element types differ: {input.ElementType.Name} and {output.ElementType.Name}.", nameof(output));
        }
    }

    private static void CheckDeterminism(Determinism determinism, Type elementType)
    {
        if (determinism is not (Determinism.RankOrdered or Determinism.Reproducible))
        {
            throw new ArgumentOutOfRangeException(nameof(determinism), determinism, "Undefined determinism.");
        }

        if (determinism == Determinism.Reproducible && elementType == typeof(double))
        {
            throw new NotSupportedException(
                $"Reproducible sums of Double are not covered by {ReproducibleSum.Version} (its window is built for Single and Half inputs); use Single, or RankOrdered.");
        }
    }
}
