namespace Artifex.Distributed;

/// <summary>The default <see cref="ICollectives"/>: the real collectives of the SPMD region running on this thread.</summary>
public sealed class AmbientCollectives : ICollectives
{
    /// <summary>Gets the shared instance.</summary>
    public static AmbientCollectives Instance { get; } = new();

    /// <inheritdoc/>
    public DeviceArray Psum(DeviceArray x, string axisName) => Collectives.AllReduce(x, ReduceOp.Sum, axisName);

    /// <inheritdoc/>
    public DeviceArray Pmean(DeviceArray x, string axisName) => Collectives.AllReduce(x, ReduceOp.Mean, axisName);

    /// <inheritdoc/>
    public DeviceArray Pmax(DeviceArray x, string axisName) => Collectives.AllReduce(x, ReduceOp.Max, axisName);

    /// <inheritdoc/>
    public DeviceArray Pmin(DeviceArray x, string axisName) => Collectives.AllReduce(x, ReduceOp.Min, axisName);

    /// <inheritdoc/>
    public DeviceArray AllGather(DeviceArray x, string axisName) => Collectives.AllGather(x, axisName);

    /// <inheritdoc/>
    public void AllReduceInPlace(DeviceArray x, ReduceOp op, string axisName, Determinism determinism) => Collectives.AllReduceInPlace(x, op, axisName, determinism);

    /// <inheritdoc/>
    public CollectiveRequest StartAllReduceInPlace(DeviceArray x, ReduceOp op, string axisName) => Collectives.StartAllReduceInPlace(x, op, axisName);

    /// <inheritdoc/>
    public void PsumScatter(DeviceArray x, DeviceArray output, string axisName) => Collectives.PsumScatter(x, output, axisName);

    /// <inheritdoc/>
    public void AllGather(DeviceArray x, DeviceArray output, string axisName) => Collectives.AllGather(x, output, axisName);

    /// <inheritdoc/>
    public int AxisIndex(string axisName) => Collectives.AxisIndex(axisName);

    /// <inheritdoc/>
    public int AxisSize(string axisName) => Collectives.AxisSize(axisName);
}
