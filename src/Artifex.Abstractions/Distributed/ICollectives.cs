namespace Artifex.Distributed;

/// <summary>
/// The collectives <see cref="DataParallel"/> and <see cref="DistributedMetrics"/> call, with the axis name: their one
/// way to reach a collective, so a test double sees every call they make (the bucketed gradient path included), and an
/// application can replace it.
/// </summary>
/// <remarks>The default, <see cref="AmbientCollectives"/>, runs <see cref="Collectives"/> in the current SPMD region.</remarks>
public interface ICollectives
{
    /// <summary>Sums over an axis (JAX <c>lax.psum</c>).</summary>
    /// <param name="x">This participant's value.</param>
    /// <param name="axisName">The axis name.</param>
    /// <returns>A new array the caller owns.</returns>
    DeviceArray Psum(DeviceArray x, string axisName);

    /// <summary>Averages over an axis (JAX <c>lax.pmean</c>).</summary>
    /// <param name="x">This participant's value.</param>
    /// <param name="axisName">The axis name.</param>
    /// <returns>A new array the caller owns.</returns>
    DeviceArray Pmean(DeviceArray x, string axisName);

    /// <summary>The maximum over an axis (JAX <c>lax.pmax</c>).</summary>
    /// <param name="x">This participant's value.</param>
    /// <param name="axisName">The axis name.</param>
    /// <returns>A new array the caller owns.</returns>
    DeviceArray Pmax(DeviceArray x, string axisName);

    /// <summary>The minimum over an axis (JAX <c>lax.pmin</c>).</summary>
    /// <param name="x">This participant's value.</param>
    /// <param name="axisName">The axis name.</param>
    /// <returns>A new array the caller owns.</returns>
    DeviceArray Pmin(DeviceArray x, string axisName);

    /// <summary>Stacks every participant's value in rank order (JAX <c>lax.all_gather</c>).</summary>
    /// <param name="x">This participant's value.</param>
    /// <param name="axisName">The axis name.</param>
    /// <returns>A new array of shape <c>(n, …)</c> the caller owns.</returns>
    DeviceArray AllGather(DeviceArray x, string axisName);

    /// <summary>
    /// Reduces <paramref name="x"/> over an axis in place, with a choice of <see cref="Determinism"/>: the allocation-free
    /// path of gradient buckets, the weighted mean and reproducible reductions.
    /// </summary>
    /// <param name="x">This participant's value; overwritten with the result.</param>
    /// <param name="op">The reduction.</param>
    /// <param name="axisName">The axis name.</param>
    /// <param name="determinism">The bitwise promise.</param>
    void AllReduceInPlace(DeviceArray x, ReduceOp op, string axisName, Determinism determinism);

    /// <summary>
    /// Starts an in-place reduction without waiting (<see cref="Collectives.StartAllReduceInPlace"/>): how gradient buckets
    /// overlap their all-reduce with the rest of the backward pass. The default runs <see cref="AllReduceInPlace"/> now
    /// and returns a completed request, so a back-end without non-blocking collectives still works, without overlap.
    /// </summary>
    /// <param name="x">This participant's value; overwritten with the result.</param>
    /// <param name="op">The reduction.</param>
    /// <param name="axisName">The axis name.</param>
    /// <returns>The request to wait on.</returns>
    CollectiveRequest StartAllReduceInPlace(DeviceArray x, ReduceOp op, string axisName)
    {
        AllReduceInPlace(x, op, axisName, Determinism.RankOrdered);
        return CollectiveRequest.Completed;
    }

    /// <summary>Sums over an axis, leaving this participant's block in <paramref name="output"/> (<see cref="Collectives.PsumScatter(DeviceArray, DeviceArray, string)"/>).</summary>
    /// <param name="x">This participant's value of <c>size × output.Length</c> elements.</param>
    /// <param name="output">Receives the block.</param>
    /// <param name="axisName">The axis name.</param>
    /// <exception cref="NotSupportedException">The back-end does not implement it (the default).</exception>
    void PsumScatter(DeviceArray x, DeviceArray output, string axisName) =>
        throw new NotSupportedException($"{GetType().Name} does not implement {nameof(ICollectives)}.{nameof(PsumScatter)}.");

    /// <summary>Gathers every participant's value into <paramref name="output"/>, rank 0's first (<see cref="Collectives.AllGather(DeviceArray, DeviceArray, string)"/>).</summary>
    /// <param name="x">This participant's value.</param>
    /// <param name="output">Receives <c>size × x.Length</c> elements.</param>
    /// <param name="axisName">The axis name.</param>
    /// <exception cref="NotSupportedException">The back-end does not implement it (the default).</exception>
    void AllGather(DeviceArray x, DeviceArray output, string axisName) =>
        throw new NotSupportedException($"{GetType().Name} does not implement {nameof(ICollectives)}.{nameof(AllGather)}.");

    /// <summary>Gets this participant's position along an axis (JAX <c>lax.axis_index</c>): how <see cref="ShardedAdam"/> checks that it holds this participant's shard.</summary>
    /// <param name="axisName">The axis name.</param>
    /// <returns>The position, from 0.</returns>
    /// <exception cref="NotSupportedException">The back-end does not implement it (the default).</exception>
    int AxisIndex(string axisName) =>
        throw new NotSupportedException($"{GetType().Name} does not implement {nameof(ICollectives)}.{nameof(AxisIndex)}.");

    /// <summary>Gets the size of an axis (JAX <c>lax.axis_size</c>).</summary>
    /// <param name="axisName">The axis name.</param>
    /// <returns>The number of participants along the axis.</returns>
    /// <exception cref="InvalidOperationException">Outside a region that binds the axis ("unbound axis name: …").</exception>
    int AxisSize(string axisName);
}
