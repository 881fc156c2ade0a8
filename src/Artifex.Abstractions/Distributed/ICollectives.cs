namespace Artifex.Distributed;

/// <summary>
/// The collectives <see cref="DataParallel"/> and <see cref="DistributedMetrics"/> call, one call per leaf with the axis
/// name: the seam that lets the original's mock-based tests be written, and that a provider can replace.
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
}
