using System.Collections.Immutable;
using Artifex.Runtime;

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

    private readonly Dictionary<string, AxisGroup> _singleAxisGroups;
    private readonly List<AxisGroup> _tupleGroups = [];
    private Type? _reducibleType;

    /// <summary>Initializes a participant.</summary>
    /// <param name="mesh">The region's mesh; every axis name of it is bound.</param>
    /// <param name="deviceIndex">The participant's row-major position in the mesh.</param>
    protected SpmdContext(Mesh mesh, int deviceIndex)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        Mesh = mesh;
        DeviceIndex = deviceIndex;
        Coordinate = mesh.CoordinateOf(deviceIndex);
        _singleAxisGroups = mesh.AxisGroupsOf(deviceIndex);
    }

    /// <summary>Gets the participant of the SPMD region running on the current thread, or <see langword="null"/> outside any region.</summary>
    public static SpmdContext? Current => s_current.Value;

    /// <summary>Gets the region's mesh.</summary>
    public Mesh Mesh { get; }

    /// <summary>Gets the participant's row-major position in the mesh.</summary>
    public int DeviceIndex { get; }

    /// <summary>Gets the participant's device.</summary>
    public Device Device => Mesh.Devices[DeviceIndex];

    /// <summary>
    /// Gets the token that cancels the region (the one passed to <see cref="DeviceProvider.RunSpmd"/>, or the provider's
    /// disposal). Collectives observe it already; a body with long work between collectives should watch it too.
    /// </summary>
    public abstract CancellationToken CancellationToken { get; }

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
        AllReduceRouted(input, output, op, group, Determinism.RankOrdered);
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
    /// <exception cref="NotSupportedException">Reproducible on Double elements (not covered by this version of the scheme).</exception>
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
        AllReduceRouted(input, output, op, group, determinism);
    }

    /// <summary>Reduce-scatter (sum) with a choice of <see cref="Determinism"/>; see <see cref="AllReduce(DeviceArray, DeviceArray, ReduceOp, AxisGroup, Determinism)"/>.</summary>
    /// <param name="input">This participant's value of <c>size × output.Length</c> elements.</param>
    /// <param name="output">Receives this participant's block of the sum.</param>
    /// <param name="group">The axis group.</param>
    /// <param name="determinism">The bitwise promise.</param>
    /// <exception cref="NotSupportedException">Reproducible on Double elements.</exception>
    /// <exception cref="ArgumentException">The arrays do not fit, the participants disagree, or a value is outside the reproducible window.</exception>
    public void ReduceScatter(DeviceArray input, DeviceArray output, AxisGroup group, Determinism determinism)
    {
        ValidateLocal(input, output, group);
        CheckDeterminism(determinism, input.ElementType);
        RequireLength(input, output.Length * group.Size, "psum_scatter input");
        ReduceScatterRouted(input, output, group, determinism);
    }

    /// <summary>
    /// Sums or averages several contributions per participant, reproducibly (<see cref="ReproducibleSum.Version"/>): the
    /// result depends only on the multiset of every participant's blocks, so K microbatch gradients on each of N devices
    /// give the same bits as 2K on N/2 devices or N·K on one. A Mean divides by the global number of blocks inside the one
    /// rounding. One fused pass: no reproducible-sum state is kept on providers that run reproducible sums themselves.
    /// </summary>
    /// <param name="contributions">This participant's K ≥ 1 blocks of <c>output.Length</c> values each, one after another; every participant passes the same K.</param>
    /// <param name="output">Receives the result on every participant. It may be the first block of <paramref name="contributions"/>, and must not overlap any other.</param>
    /// <param name="op"><see cref="ReduceOp.Sum"/> or <see cref="ReduceOp.Mean"/>.</param>
    /// <param name="group">The axis group.</param>
    /// <exception cref="ArgumentException">The elements are not Single or Half; <paramref name="contributions"/> is not a whole number of output-sized blocks, or the blocks of the group exceed <see cref="ReproducibleSum.MaxDeposits"/>; the participants disagree; or a value is outside the window (named with its rank, index and value). No buffer changes.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="op"/> is not Sum or Mean.</exception>
    public void AllReduceContributions(DeviceArray contributions, DeviceArray output, ReduceOp op, AxisGroup group)
    {
        ValidateLocal(contributions, output, group);
        if (op is not (ReduceOp.Sum or ReduceOp.Mean))
        {
            throw new ArgumentOutOfRangeException(nameof(op), op, "Contributions are summed or averaged.");
        }

        if (contributions.ElementType != typeof(float) && contributions.ElementType != typeof(Half))
        {
            throw new ArgumentException($"Reproducible contributions are Single or Half values, not {contributions.ElementType.Name}.", nameof(contributions));
        }

        long count = output.Length;
        long blocks = count == 0 ? 1 : contributions.Length / count;
        if (count == 0 ? contributions.Length != 0 : contributions.Length == 0 || contributions.Length % count != 0)
        {
            throw new ArgumentException(
                $"The contributions must be whole blocks of the output's {count} elements, but {contributions} holds {contributions.Length}.", nameof(contributions));
        }

        if (blocks * group.Size > ReproducibleSum.MaxDeposits)
        {
            throw new ArgumentException(
                $"{blocks} blocks on each of {group.Size} participants of axis {group} make {blocks * group.Size} contributions per element; {ReproducibleSum.Version} allows {ReproducibleSum.MaxDeposits}.",
                nameof(contributions));
        }

        ThrowIfCannotReduce(contributions.ElementType, op);
        ReproducibleSumOf(CollectiveKind.AllReduce, contributions, output, op, group);
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
        CollectiveCore(group, new CollectiveCall(CollectiveKind.AllGather, input, output));
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
        ReduceScatterRouted(input, output, group, Determinism.RankOrdered);
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
        CollectiveCore(group, new CollectiveCall(CollectiveKind.Broadcast, input, output, root: root));
    }

    /// <summary>
    /// Starts <see cref="AllReduce(DeviceArray, DeviceArray, ReduceOp, AxisGroup)"/> without waiting: the collective runs
    /// on the device's communication thread while this participant goes on; <see cref="CollectiveRequest.Wait"/> before
    /// reading <paramref name="output"/> or writing either array. Same bits as the blocking call.
    /// </summary>
    /// <param name="input">This participant's value.</param>
    /// <param name="output">Receives the result; may be <paramref name="input"/>.</param>
    /// <param name="op">The reduction.</param>
    /// <param name="group">The axis group.</param>
    /// <returns>The request to wait on.</returns>
    /// <exception cref="ArgumentException">The arrays do not fit, or the provider cannot reduce the element type (checked now; a disagreement between participants is reported by <see cref="CollectiveRequest.Wait"/>).</exception>
    /// <remarks>Every participant must start the same collectives in the same order; see <see cref="CollectiveRequest"/>.</remarks>
    public CollectiveRequest StartAllReduce(DeviceArray input, DeviceArray output, ReduceOp op, AxisGroup group)
    {
        ValidateLocal(input, output, group);
        if (op is < ReduceOp.Mean or > ReduceOp.Min)
        {
            throw new ArgumentOutOfRangeException(nameof(op), op, "Undefined reduce op.");
        }

        RequireSameShape(input, output, input.Length);
        ThrowIfCannotReduce(input.ElementType, op);
        return StartCollectiveCore(group, new CollectiveCall(CollectiveKind.AllReduce, input, output, op));
    }

    /// <summary>Starts <see cref="ReduceScatter(DeviceArray, DeviceArray, AxisGroup)"/> without waiting (see <see cref="StartAllReduce"/>).</summary>
    /// <param name="input">This participant's value of <c>size × output.Length</c> elements.</param>
    /// <param name="output">Receives this participant's block of the sum.</param>
    /// <param name="group">The axis group.</param>
    /// <returns>The request to wait on.</returns>
    /// <exception cref="ArgumentException">The arrays do not fit, or the provider cannot reduce the element type.</exception>
    public CollectiveRequest StartReduceScatter(DeviceArray input, DeviceArray output, AxisGroup group)
    {
        ValidateLocal(input, output, group);
        RequireLength(input, output.Length * group.Size, "psum_scatter input");
        ThrowIfCannotReduce(input.ElementType, ReduceOp.Sum);
        return StartCollectiveCore(group, new CollectiveCall(CollectiveKind.ReduceScatter, input, output));
    }

    /// <summary>Starts <see cref="AllGather(DeviceArray, DeviceArray, AxisGroup)"/> without waiting (see <see cref="StartAllReduce"/>).</summary>
    /// <param name="input">This participant's value.</param>
    /// <param name="output">Receives <c>size × input.Length</c> elements, rank 0's block first.</param>
    /// <param name="group">The axis group.</param>
    /// <returns>The request to wait on.</returns>
    /// <exception cref="ArgumentException">The arrays do not fit.</exception>
    public CollectiveRequest StartAllGather(DeviceArray input, DeviceArray output, AxisGroup group)
    {
        ValidateLocal(input, output, group);
        RequireLength(output, input.Length * group.Size, "all_gather output");
        return StartCollectiveCore(group, new CollectiveCall(CollectiveKind.AllGather, input, output));
    }

    /// <summary>Waits until every participant of the group has arrived.</summary>
    /// <param name="group">The axis group.</param>
    public void Barrier(AxisGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        RequireOwnGroup(group);
        CollectiveCore(group, CollectiveCall.Barrier);
    }

    /// <summary>Makes a participant the ambient context of the current thread, for the runtime that runs it.</summary>
    /// <param name="context">The participant, or <see langword="null"/> to unbind.</param>
    protected static void SetCurrent(SpmdContext? context) => s_current.Value = context;

    /// <summary>Gets why the provider's collectives cannot reduce <paramref name="elementType"/>, or <see langword="null"/>.</summary>
    /// <param name="elementType">The element type.</param>
    /// <returns>The message, or <see langword="null"/> when the type is reduced.</returns>
    protected abstract string? GetUnsupportedReason(Type elementType);

    /// <summary>
    /// Gets whether the provider runs reproducible sums itself (calls with <see cref="CollectiveCall.Reproducible"/> set);
    /// when false, the contract deposits into reproducible-sum states and sums them with an exact Double all-reduce.
    /// </summary>
    protected abstract bool ExecutesReproducibleSums { get; }

    /// <summary>Runs one agreed-upon collective: meets the group's other participants with this participant's call.</summary>
    /// <param name="group">The axis group.</param>
    /// <param name="collective">This participant's call; validated locally, routed by the contract's rules.</param>
    protected abstract void CollectiveCore(AxisGroup group, in CollectiveCall collective);

    /// <summary>
    /// Starts one agreed-upon collective without waiting. The default runs it now, through <see cref="CollectiveCore"/>,
    /// and returns <see cref="CollectiveRequest.Completed"/>.
    /// </summary>
    /// <param name="group">The axis group.</param>
    /// <param name="collective">This participant's call, validated locally.</param>
    /// <returns>The request.</returns>
    protected virtual CollectiveRequest StartCollectiveCore(AxisGroup group, in CollectiveCall collective)
    {
        CollectiveCore(group, in collective);
        return CollectiveRequest.Completed;
    }

    private void AllReduceRouted(DeviceArray input, DeviceArray output, ReduceOp op, AxisGroup group, Determinism determinism)
    {
        ThrowIfCannotReduce(input.ElementType, op);
        bool floating = input.ElementType == typeof(float) || input.ElementType == typeof(Half);
        if (determinism == Determinism.RankOrdered || !floating)
        {
            // Integer sums are exact already: the reproducible option changes nothing for them.
            CollectiveCore(group, new CollectiveCall(CollectiveKind.AllReduce, input, output, op));
        }
        else if (op is ReduceOp.Max or ReduceOp.Min)
        {
            // IEEE maximum/minimum are order-independent except for NaN payloads: canonicalize those.
            CollectiveCore(group, new CollectiveCall(CollectiveKind.AllReduce, input, output, op));
            output.Buffer.Provider.Kernels.CanonicalizeNaN(output.Buffer);
        }
        else
        {
            ReproducibleSumOf(CollectiveKind.AllReduce, input, output, op, group);
        }
    }

    private void ReduceScatterRouted(DeviceArray input, DeviceArray output, AxisGroup group, Determinism determinism)
    {
        ThrowIfCannotReduce(input.ElementType, ReduceOp.Sum);
        bool floating = input.ElementType == typeof(float) || input.ElementType == typeof(Half);
        if (determinism == Determinism.RankOrdered || !floating)
        {
            CollectiveCore(group, new CollectiveCall(CollectiveKind.ReduceScatter, input, output));
        }
        else
        {
            ReproducibleSumOf(CollectiveKind.ReduceScatter, input, output, ReduceOp.Sum, group);
        }
    }

    /// <summary>
    /// A reproducible Sum or Mean (<see cref="ReproducibleSum"/>). Every participant checks its input against the window
    /// before it arrives, so a bad value fails every participant alike, naming its rank, and nothing changes. A provider
    /// that runs reproducible sums gets the call as it is; otherwise each participant deposits its values into a state,
    /// the unbiased states are summed exactly by a Double all-reduce (every partial sum is representable, so no order
    /// matters), and one rounding writes the result, scaled by 1/(size · blocks) for a mean. An all-reduce's input may hold
    /// several output-sized blocks (<see cref="AllReduceContributions"/>), each one contribution.
    /// </summary>
    private void ReproducibleSumOf(CollectiveKind kind, DeviceArray input, DeviceArray output, ReduceOp op, AxisGroup group)
    {
        DeviceProvider provider = input.Buffer.Provider;
        DeviceKernels kernels = provider.Kernels;
        long window = kernels.ReproducibleFindOutsideWindow(input.Buffer);
        double windowValue = window < 0 ? 0 : DeviceKernels.ReadValue(input.Buffer, window);
        if (ExecutesReproducibleSums)
        {
            CollectiveCore(group, new CollectiveCall(kind, input, output, op, reproducible: true) { WindowIndex = window, WindowValue = windowValue });
            return;
        }

        long count = kind == CollectiveKind.AllReduce ? output.Length : input.Length;
        long blocks = count == 0 ? 1 : input.Length / count;
        using DeviceArray<double> state = DeviceArray.Allocate<double>(Device, 3 * count);
        kernels.ReproducibleReset(state.Buffer);
        if (window < 0 && blocks == 1)
        {
            kernels.ReproducibleDeposit(state.Buffer, input.Buffer);
        }

        for (long block = 0; window < 0 && blocks > 1 && block < blocks; block++)
        {
            using DeviceArray contribution = input.Slice(block * count, count);
            kernels.ReproducibleDeposit(state.Buffer, contribution.Buffer);
        }

        kernels.ReproducibleSetBias(state.Buffer, biased: false);
        CollectiveCore(group, new CollectiveCall(CollectiveKind.AllReduce, state, state) { WindowIndex = window, WindowValue = windowValue });
        kernels.ReproducibleSetBias(state.Buffer, biased: true);
        double scale = op == ReduceOp.Mean ? 1.0 / (group.Size * blocks) : 1.0;
        if (kind == CollectiveKind.AllReduce)
        {
            kernels.ReproducibleFinalize(state.Buffer, output.Buffer, scale);
            return;
        }

        // The state is level-major, so one rank's block is finalized through a full-length result.
        using DeviceArray full = input.AllocateLike(count);
        kernels.ReproducibleFinalize(state.Buffer, full.Buffer, scale);
        provider.Copy(full.Buffer, group.Rank * output.Length, output.Buffer, 0, output.Length);
    }

    /// <summary>The contract's reduction rules: the provider's element types, and JAX's: the mean of integers is not an integer.</summary>
    private void ThrowIfCannotReduce(Type elementType, ReduceOp op)
    {
        // A participant reduces one or two element types in a training loop: ask the provider once per type change.
        if (!ReferenceEquals(elementType, _reducibleType))
        {
            string? reason = GetUnsupportedReason(elementType);
            if (reason is not null)
            {
                throw new ArgumentException(reason, nameof(elementType));
            }

            _reducibleType = elementType;
        }

        if (op == ReduceOp.Mean)
        {
            CollectiveRules.ThrowIfMeanOfIntegers(elementType, op, nameof(op));
        }
    }

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
