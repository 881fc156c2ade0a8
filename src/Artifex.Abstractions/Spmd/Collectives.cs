namespace Artifex;

/// <summary>
/// Collectives over named mesh axes, called from inside an SPMD region (JAX <c>jax.lax</c>): the axis names are
/// found in the ambient <see cref="SpmdContext.Current"/>, so code such as
/// <c>Collectives.Pmean(grad, "data")</c> needs no context parameter.
/// </summary>
/// <remarks>
/// Outside a region, or with a name the region does not bind, every member throws
/// <see cref="InvalidOperationException"/> with JAX's text "unbound axis name: {name}" and the names that are bound.
/// Members that return an array allocate it on the participant's device; the caller owns it. The
/// <c>...InPlace</c> members allocate nothing.
/// </remarks>
/// <example>
/// Every device contributes its rank + 1; the mean over four devices is 2.5 on each, the sum 10:
/// <code>
/// using var provider = new CpuProvider(deviceCount: 4);
/// provider.RunSpmd(new Mesh(provider.Devices, ("data", 4)), context =>
/// {
///     using DeviceArray&lt;float&gt; g = DeviceArray.FromHost(context.Device, new HostArray&lt;float&gt;([Collectives.AxisIndex("data") + 1f], 1));
///     using DeviceArray&lt;float&gt; mean = Collectives.Pmean(g, "data");
///     Collectives.AllReduceInPlace(g, ReduceOp.Sum, "data");
/// });
/// </code>
/// </example>
public static class Collectives
{
    /// <summary>Gets the participant's position along an axis (JAX <c>lax.axis_index</c>).</summary>
    /// <param name="axisName">A bound axis name.</param>
    /// <returns>The index.</returns>
    /// <exception cref="InvalidOperationException">The name is not bound.</exception>
    public static int AxisIndex(string axisName) => Resolve(axisName).Rank;

    /// <summary>Gets the size of an axis (JAX <c>lax.axis_size</c>).</summary>
    /// <param name="axisName">A bound axis name.</param>
    /// <returns>The size.</returns>
    /// <exception cref="InvalidOperationException">The name is not bound.</exception>
    public static int AxisSize(string axisName) => Resolve(axisName).Size;

    /// <summary>Sums over an axis (JAX <c>lax.psum</c>).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="x">This participant's value.</param>
    /// <param name="axisName">A bound axis name.</param>
    /// <returns>The sum, a new array the caller owns.</returns>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, from another thread than the participant's own, or the provider's collective failed (the cause is the inner exception).</exception>
    /// <exception cref="ArgumentException">The participants disagree on the collective, element type, shape, op or root — every participant gets it and no buffer changed — or the provider cannot reduce the element type, or the mean is of integers.</exception>
    /// <exception cref="TimeoutException">A participant of the axis did not arrive within the provider's <see cref="DeviceProvider.CollectiveTimeout"/>; the message names the missing ranks.</exception>
    /// <exception cref="OperationCanceledException">Another participant of the region failed, or the region was canceled; the region reports the first failure.</exception>
    public static DeviceArray<T> Psum<T>(DeviceArray<T> x, string axisName)
        where T : unmanaged => (DeviceArray<T>)AllReduce(x, ReduceOp.Sum, axisName);

    /// <summary>Averages over an axis: the sum in rank order, divided by the axis size (JAX <c>lax.pmean</c>).</summary>
    /// <typeparam name="T">The element type (floating point).</typeparam>
    /// <param name="x">This participant's value.</param>
    /// <param name="axisName">A bound axis name.</param>
    /// <returns>The mean, a new array the caller owns.</returns>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, from another thread than the participant's own, or the provider's collective failed (the cause is the inner exception).</exception>
    /// <exception cref="ArgumentException">The participants disagree on the collective, element type, shape, op or root — every participant gets it and no buffer changed — or the provider cannot reduce the element type, or the mean is of integers.</exception>
    /// <exception cref="TimeoutException">A participant of the axis did not arrive within the provider's <see cref="DeviceProvider.CollectiveTimeout"/>; the message names the missing ranks.</exception>
    /// <exception cref="OperationCanceledException">Another participant of the region failed, or the region was canceled; the region reports the first failure.</exception>
    public static DeviceArray<T> Pmean<T>(DeviceArray<T> x, string axisName)
        where T : unmanaged => (DeviceArray<T>)AllReduce(x, ReduceOp.Mean, axisName);

    /// <summary>The maximum over an axis (JAX <c>lax.pmax</c>).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="x">This participant's value.</param>
    /// <param name="axisName">A bound axis name.</param>
    /// <returns>The maximum, a new array the caller owns.</returns>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, from another thread than the participant's own, or the provider's collective failed (the cause is the inner exception).</exception>
    /// <exception cref="ArgumentException">The participants disagree on the collective, element type, shape, op or root — every participant gets it and no buffer changed — or the provider cannot reduce the element type, or the mean is of integers.</exception>
    /// <exception cref="TimeoutException">A participant of the axis did not arrive within the provider's <see cref="DeviceProvider.CollectiveTimeout"/>; the message names the missing ranks.</exception>
    /// <exception cref="OperationCanceledException">Another participant of the region failed, or the region was canceled; the region reports the first failure.</exception>
    public static DeviceArray<T> Pmax<T>(DeviceArray<T> x, string axisName)
        where T : unmanaged => (DeviceArray<T>)AllReduce(x, ReduceOp.Max, axisName);

    /// <summary>The minimum over an axis (JAX <c>lax.pmin</c>).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="x">This participant's value.</param>
    /// <param name="axisName">A bound axis name.</param>
    /// <returns>The minimum, a new array the caller owns.</returns>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, from another thread than the participant's own, or the provider's collective failed (the cause is the inner exception).</exception>
    /// <exception cref="ArgumentException">The participants disagree on the collective, element type, shape, op or root — every participant gets it and no buffer changed — or the provider cannot reduce the element type, or the mean is of integers.</exception>
    /// <exception cref="TimeoutException">A participant of the axis did not arrive within the provider's <see cref="DeviceProvider.CollectiveTimeout"/>; the message names the missing ranks.</exception>
    /// <exception cref="OperationCanceledException">Another participant of the region failed, or the region was canceled; the region reports the first failure.</exception>
    public static DeviceArray<T> Pmin<T>(DeviceArray<T> x, string axisName)
        where T : unmanaged => (DeviceArray<T>)AllReduce(x, ReduceOp.Min, axisName);

    /// <summary>Reduces over an axis into a new array.</summary>
    /// <param name="x">This participant's value.</param>
    /// <param name="op">The reduction.</param>
    /// <param name="axisName">A bound axis name.</param>
    /// <returns>The result, a new array the caller owns.</returns>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, from another thread than the participant's own, or the provider's collective failed (the cause is the inner exception).</exception>
    /// <exception cref="ArgumentException">The participants disagree on the collective, element type, shape, op or root — every participant gets it and no buffer changed — or the provider cannot reduce the element type, or the mean is of integers.</exception>
    /// <exception cref="TimeoutException">A participant of the axis did not arrive within the provider's <see cref="DeviceProvider.CollectiveTimeout"/>; the message names the missing ranks.</exception>
    /// <exception cref="OperationCanceledException">Another participant of the region failed, or the region was canceled; the region reports the first failure.</exception>
    public static DeviceArray AllReduce(DeviceArray x, ReduceOp op, string axisName) => AllReduce(x, op, Resolve(axisName));

    /// <summary>Reduces over an ordered tuple of axes into a new array.</summary>
    /// <param name="x">This participant's value.</param>
    /// <param name="op">The reduction.</param>
    /// <param name="axisNames">Bound axis names, major first.</param>
    /// <returns>The result, a new array the caller owns.</returns>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, from another thread than the participant's own, or the provider's collective failed (the cause is the inner exception).</exception>
    /// <exception cref="ArgumentException">The participants disagree on the collective, element type, shape, op or root — every participant gets it and no buffer changed — or the provider cannot reduce the element type, or the mean is of integers.</exception>
    /// <exception cref="TimeoutException">A participant of the axis did not arrive within the provider's <see cref="DeviceProvider.CollectiveTimeout"/>; the message names the missing ranks.</exception>
    /// <exception cref="OperationCanceledException">Another participant of the region failed, or the region was canceled; the region reports the first failure.</exception>
    public static DeviceArray AllReduce(DeviceArray x, ReduceOp op, IReadOnlyList<string> axisNames) => AllReduce(x, op, Resolve(axisNames));

    /// <summary>Reduces over an axis in place: <paramref name="x"/> receives the result. Allocates nothing.</summary>
    /// <param name="x">This participant's value, overwritten with the result.</param>
    /// <param name="op">The reduction.</param>
    /// <param name="axisName">A bound axis name.</param>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, from another thread than the participant's own, or the provider's collective failed (the cause is the inner exception).</exception>
    /// <exception cref="ArgumentException">The participants disagree on the collective, element type, shape, op or root — every participant gets it and no buffer changed — or the provider cannot reduce the element type, or the mean is of integers.</exception>
    /// <exception cref="TimeoutException">A participant of the axis did not arrive within the provider's <see cref="DeviceProvider.CollectiveTimeout"/>; the message names the missing ranks.</exception>
    /// <exception cref="OperationCanceledException">Another participant of the region failed, or the region was canceled; the region reports the first failure.</exception>
    public static void AllReduceInPlace(DeviceArray x, ReduceOp op, string axisName)
    {
        AxisGroup group = Resolve(axisName);
        Context.AllReduce(x, x, op, group);
    }

    /// <summary>Reduces over an axis in place with a choice of <see cref="Determinism"/> (see <see cref="SpmdContext.AllReduce(DeviceArray, DeviceArray, ReduceOp, AxisGroup, Determinism)"/>).</summary>
    /// <param name="x">This participant's value, overwritten with the result.</param>
    /// <param name="op">The reduction.</param>
    /// <param name="axisName">A bound axis name.</param>
    /// <param name="determinism">The bitwise promise.</param>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, from another thread than the participant's own, or the provider's collective failed (the cause is the inner exception).</exception>
    /// <exception cref="ArgumentException">The participants disagree on the collective, element type, shape, op or root — every participant gets it and no buffer changed — or the provider cannot reduce the element type, or the mean is of integers.</exception>
    /// <exception cref="TimeoutException">A participant of the axis did not arrive within the provider's <see cref="DeviceProvider.CollectiveTimeout"/>; the message names the missing ranks.</exception>
    /// <exception cref="OperationCanceledException">Another participant of the region failed, or the region was canceled; the region reports the first failure.</exception>
    public static void AllReduceInPlace(DeviceArray x, ReduceOp op, string axisName, Determinism determinism)
    {
        AxisGroup group = Resolve(axisName);
        Context.AllReduce(x, x, op, group, determinism);
    }

    /// <summary>
    /// Sums or averages K blocks per participant reproducibly over an axis: the result depends only on the multiset of all
    /// participants' blocks (<see cref="SpmdContext.AllReduceContributions"/>), e.g. the mean of every device's microbatch gradients.
    /// </summary>
    /// <param name="contributions">This participant's K ≥ 1 blocks of <c>output.Length</c> values, one after another (the same K everywhere).</param>
    /// <param name="output">Receives the result on every participant (it may be the first block of <paramref name="contributions"/>).</param>
    /// <param name="op"><see cref="ReduceOp.Sum"/> or <see cref="ReduceOp.Mean"/> (divided by the global number of blocks).</param>
    /// <param name="axisName">A bound axis name.</param>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, from another thread than the participant's own, or the provider's collective failed (the cause is the inner exception).</exception>
    /// <exception cref="ArgumentException">Not Single or Half; not whole blocks; the participants disagree; or a value is outside the reproducible window. No buffer changes.</exception>
    /// <exception cref="TimeoutException">A participant of the axis did not arrive within the provider's <see cref="DeviceProvider.CollectiveTimeout"/>; the message names the missing ranks.</exception>
    /// <exception cref="OperationCanceledException">Another participant of the region failed, or the region was canceled; the region reports the first failure.</exception>
    public static void AllReduceContributions(DeviceArray contributions, DeviceArray output, ReduceOp op, string axisName)
    {
        AxisGroup group = Resolve(axisName);
        Context.AllReduceContributions(contributions, output, op, group);
    }

    /// <summary>Reduces over an ordered tuple of axes in place.</summary>
    /// <param name="x">This participant's value, overwritten with the result.</param>
    /// <param name="op">The reduction.</param>
    /// <param name="axisNames">Bound axis names, major first.</param>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, from another thread than the participant's own, or the provider's collective failed (the cause is the inner exception).</exception>
    /// <exception cref="ArgumentException">The participants disagree on the collective, element type, shape, op or root — every participant gets it and no buffer changed — or the provider cannot reduce the element type, or the mean is of integers.</exception>
    /// <exception cref="TimeoutException">A participant of the axis did not arrive within the provider's <see cref="DeviceProvider.CollectiveTimeout"/>; the message names the missing ranks.</exception>
    /// <exception cref="OperationCanceledException">Another participant of the region failed, or the region was canceled; the region reports the first failure.</exception>
    public static void AllReduceInPlace(DeviceArray x, ReduceOp op, IReadOnlyList<string> axisNames)
    {
        AxisGroup group = Resolve(axisNames);
        Context.AllReduce(x, x, op, group);
    }

    /// <summary>Gathers every participant's value in rank order (JAX <c>lax.all_gather</c>).</summary>
    /// <param name="x">This participant's value.</param>
    /// <param name="axisName">A bound axis name.</param>
    /// <param name="tiled">False: stack into shape <c>(n, …)</c>; true: concatenate along dimension 0.</param>
    /// <returns>The gathered array, a new array the caller owns.</returns>
    /// <exception cref="ArgumentException"><paramref name="tiled"/> is true and <paramref name="x"/> is a scalar.</exception>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, from another thread than the participant's own, or the provider's collective failed (the cause is the inner exception).</exception>
    /// <exception cref="TimeoutException">A participant of the axis did not arrive within the provider's <see cref="DeviceProvider.CollectiveTimeout"/>; the message names the missing ranks.</exception>
    /// <exception cref="OperationCanceledException">Another participant of the region failed, or the region was canceled; the region reports the first failure.</exception>
    public static DeviceArray AllGather(DeviceArray x, string axisName, bool tiled = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        AxisGroup group = Resolve(axisName);
        if (tiled && x.Rank == 0)
        {
            throw new ArgumentException("A tiled all_gather needs an array of rank at least 1.", nameof(x));
        }

        long[] shape = tiled ? [x.Shape[0] * group.Size, .. x.Shape[1..]] : [group.Size, .. x.Shape];
        DeviceArray output = x.AllocateLike(shape);
        return Complete(output, () => Context.AllGather(x, output, group));
    }

    /// <summary>Sums over an axis and keeps this participant's block of dimension 0 (JAX <c>lax.psum_scatter(tiled=True)</c>).</summary>
    /// <param name="x">This participant's value; dimension 0 must be divisible by the axis size.</param>
    /// <param name="axisName">A bound axis name.</param>
    /// <returns>The block, a new array the caller owns.</returns>
    /// <exception cref="ArgumentException">Dimension 0 is not divisible by the axis size.</exception>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, from another thread than the participant's own, or the provider's collective failed (the cause is the inner exception).</exception>
    /// <exception cref="TimeoutException">A participant of the axis did not arrive within the provider's <see cref="DeviceProvider.CollectiveTimeout"/>; the message names the missing ranks.</exception>
    /// <exception cref="OperationCanceledException">Another participant of the region failed, or the region was canceled; the region reports the first failure.</exception>
    public static DeviceArray PsumScatter(DeviceArray x, string axisName)
    {
        ArgumentNullException.ThrowIfNull(x);
        AxisGroup group = Resolve(axisName);
        if (x.Rank == 0 || x.Shape[0] % group.Size != 0)
        {
            throw new ArgumentException($"psum_scatter over {group} needs dimension 0 divisible by {group.Size}, but the shape is {Python.Shape(x.Shape.AsSpan())}.", nameof(x));
        }

        DeviceArray output = x.AllocateLike([x.Shape[0] / group.Size, .. x.Shape[1..]]);
        return Complete(output, () => Context.ReduceScatter(x, output, group));
    }

    /// <summary>Copies the value of the participant with rank <paramref name="root"/> to every participant.</summary>
    /// <param name="x">This participant's value (only the root's is read).</param>
    /// <param name="root">The root's rank along the axis.</param>
    /// <param name="axisName">A bound axis name.</param>
    /// <returns>The root's value, a new array the caller owns.</returns>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, from another thread than the participant's own, or the provider's collective failed (the cause is the inner exception).</exception>
    /// <exception cref="ArgumentException">The participants disagree on the collective, element type, shape, op or root — every participant gets it and no buffer changed — or the provider cannot reduce the element type, or the mean is of integers.</exception>
    /// <exception cref="TimeoutException">A participant of the axis did not arrive within the provider's <see cref="DeviceProvider.CollectiveTimeout"/>; the message names the missing ranks.</exception>
    /// <exception cref="OperationCanceledException">Another participant of the region failed, or the region was canceled; the region reports the first failure.</exception>
    public static DeviceArray Broadcast(DeviceArray x, int root, string axisName)
    {
        ArgumentNullException.ThrowIfNull(x);
        AxisGroup group = Resolve(axisName);
        DeviceArray output = x.AllocateLike([.. x.Shape]);
        return Complete(output, () => Context.Broadcast(x, output, root, group));
    }

    /// <summary>
    /// Starts an in-place reduction over an axis without waiting: it runs on the device's communication thread while the
    /// caller computes; <see cref="CollectiveRequest.Wait"/> before touching <paramref name="x"/>. Same bits as
    /// <see cref="AllReduceInPlace(DeviceArray, ReduceOp, string)"/>; allocates nothing.
    /// </summary>
    /// <param name="x">This participant's value, overwritten with the result.</param>
    /// <param name="op">The reduction.</param>
    /// <param name="axisName">A bound axis name.</param>
    /// <returns>The request.</returns>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, or from another thread than the participant's own.</exception>
    /// <exception cref="ArgumentException">The provider cannot reduce the element type, or the mean is of integers; a disagreement between participants is reported by <see cref="CollectiveRequest.Wait"/>.</exception>
    /// <remarks>Every participant must start the same collectives in the same order (see <see cref="CollectiveRequest"/>).</remarks>
    public static CollectiveRequest StartAllReduceInPlace(DeviceArray x, ReduceOp op, string axisName)
    {
        AxisGroup group = Resolve(axisName);
        return Context.StartAllReduce(x, x, op, group);
    }

    /// <summary>Sums over an axis into <paramref name="output"/>, which receives this participant's block of dimension 0 (allocation-free <see cref="PsumScatter(DeviceArray, string)"/>).</summary>
    /// <param name="x">This participant's value of <c>size × output.Length</c> elements.</param>
    /// <param name="output">Receives the block.</param>
    /// <param name="axisName">A bound axis name.</param>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, or from another thread than the participant's own.</exception>
    /// <exception cref="ArgumentException">The lengths do not fit, or the participants disagree.</exception>
    public static void PsumScatter(DeviceArray x, DeviceArray output, string axisName)
    {
        AxisGroup group = Resolve(axisName);
        Context.ReduceScatter(x, output, group);
    }

    /// <summary>Starts <see cref="PsumScatter(DeviceArray, DeviceArray, string)"/> without waiting (see <see cref="StartAllReduceInPlace"/>).</summary>
    /// <param name="x">This participant's value of <c>size × output.Length</c> elements.</param>
    /// <param name="output">Receives the block.</param>
    /// <param name="axisName">A bound axis name.</param>
    /// <returns>The request.</returns>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, or from another thread than the participant's own.</exception>
    /// <exception cref="ArgumentException">The lengths do not fit.</exception>
    public static CollectiveRequest StartPsumScatter(DeviceArray x, DeviceArray output, string axisName)
    {
        AxisGroup group = Resolve(axisName);
        return Context.StartReduceScatter(x, output, group);
    }

    /// <summary>Gathers every participant's value into <paramref name="output"/>, rank 0's first (allocation-free, tiled <see cref="AllGather(DeviceArray, string, bool)"/>).</summary>
    /// <param name="x">This participant's value.</param>
    /// <param name="output">Receives <c>size × x.Length</c> elements.</param>
    /// <param name="axisName">A bound axis name.</param>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, or from another thread than the participant's own.</exception>
    /// <exception cref="ArgumentException">The lengths do not fit, or the participants disagree.</exception>
    public static void AllGather(DeviceArray x, DeviceArray output, string axisName)
    {
        AxisGroup group = Resolve(axisName);
        Context.AllGather(x, output, group);
    }

    /// <summary>Starts <see cref="AllGather(DeviceArray, DeviceArray, string)"/> without waiting (see <see cref="StartAllReduceInPlace"/>).</summary>
    /// <param name="x">This participant's value.</param>
    /// <param name="output">Receives <c>size × x.Length</c> elements.</param>
    /// <param name="axisName">A bound axis name.</param>
    /// <returns>The request.</returns>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, or from another thread than the participant's own.</exception>
    /// <exception cref="ArgumentException">The lengths do not fit.</exception>
    public static CollectiveRequest StartAllGather(DeviceArray x, DeviceArray output, string axisName)
    {
        AxisGroup group = Resolve(axisName);
        return Context.StartAllGather(x, output, group);
    }

    /// <summary>Waits until every participant along the axis has arrived.</summary>
    /// <param name="axisName">A bound axis name.</param>
    /// <exception cref="InvalidOperationException">Outside an SPMD region, on an axis the region does not bind, from another thread than the participant's own, or the provider's collective failed (the cause is the inner exception).</exception>
    /// <exception cref="ArgumentException">The participants disagree on the collective, element type, shape, op or root — every participant gets it and no buffer changed — or the provider cannot reduce the element type, or the mean is of integers.</exception>
    /// <exception cref="TimeoutException">A participant of the axis did not arrive within the provider's <see cref="DeviceProvider.CollectiveTimeout"/>; the message names the missing ranks.</exception>
    /// <exception cref="OperationCanceledException">Another participant of the region failed, or the region was canceled; the region reports the first failure.</exception>
    public static void Barrier(string axisName)
    {
        AxisGroup group = Resolve(axisName);
        Context.Barrier(group);
    }

    private static SpmdContext Context => SpmdContext.Current!;

    private static DeviceArray AllReduce(DeviceArray x, ReduceOp op, AxisGroup group)
    {
        ArgumentNullException.ThrowIfNull(x);
        DeviceArray output = x.AllocateLike([.. x.Shape]);
        return Complete(output, () => Context.AllReduce(x, output, op, group));
    }

    private static DeviceArray Complete(DeviceArray output, Action collective)
    {
        try
        {
            collective();
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    private static AxisGroup Resolve(string axisName)
    {
        ArgumentNullException.ThrowIfNull(axisName);
        SpmdContext context = SpmdContext.Current ?? throw SpmdContext.UnboundAxis(axisName, null);
        return context.GetAxisGroup(axisName);
    }

    private static AxisGroup Resolve(IReadOnlyList<string> axisNames)
    {
        ArgumentNullException.ThrowIfNull(axisNames);
        SpmdContext context = SpmdContext.Current ?? throw SpmdContext.UnboundAxis(axisNames.Count > 0 ? axisNames[0] : "()", null);
        return context.GetAxisGroup(axisNames);
    }
}
