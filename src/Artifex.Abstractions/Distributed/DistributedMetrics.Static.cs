namespace Artifex.Distributed;

// The static twins of the original's <c>_static</c> methods, on a shared default instance.
public sealed partial class DistributedMetrics
{
    /// <summary>Static twin of <see cref="AllGather"/>.</summary>
    /// <param name="metrics">This participant's metrics.</param>
    /// <param name="axisName">The axis.</param>
    /// <returns>Arrays of shape <c>(n, …)</c>; the caller owns them.</returns>
    public static Tree<DeviceArray> AllGatherStatic(Tree<DeviceArray> metrics, string axisName = "batch") => s_default.AllGather(metrics, axisName);

    /// <summary>Static twin of <see cref="ReduceMean"/>.</summary>
    /// <param name="metrics">This participant's metrics.</param>
    /// <param name="axisName">The axis.</param>
    /// <returns>The means; the caller owns them.</returns>
    public static Tree<DeviceArray> ReduceMeanStatic(Tree<DeviceArray> metrics, string axisName = "batch") => s_default.ReduceMean(metrics, axisName);

    /// <summary>Static twin of <see cref="ReduceSum"/>.</summary>
    /// <param name="metrics">This participant's metrics.</param>
    /// <param name="axisName">The axis.</param>
    /// <returns>The sums; the caller owns them.</returns>
    public static Tree<DeviceArray> ReduceSumStatic(Tree<DeviceArray> metrics, string axisName = "batch") => s_default.ReduceSum(metrics, axisName);

    /// <summary>Static twin of <see cref="ReduceMax"/>.</summary>
    /// <param name="metrics">This participant's metrics.</param>
    /// <param name="axisName">The axis.</param>
    /// <returns>The maxima; the caller owns them.</returns>
    public static Tree<DeviceArray> ReduceMaxStatic(Tree<DeviceArray> metrics, string axisName = "batch") => s_default.ReduceMax(metrics, axisName);

    /// <summary>Static twin of <see cref="ReduceMin"/>.</summary>
    /// <param name="metrics">This participant's metrics.</param>
    /// <param name="axisName">The axis.</param>
    /// <returns>The minima; the caller owns them.</returns>
    public static Tree<DeviceArray> ReduceMinStatic(Tree<DeviceArray> metrics, string axisName = "batch") => s_default.ReduceMin(metrics, axisName);

    /// <summary>Static twin of <see cref="ReduceCustom"/>.</summary>
    /// <param name="metrics">This participant's metrics.</param>
    /// <param name="reduceFn">Op per top-level key.</param>
    /// <param name="axisName">The axis.</param>
    /// <returns>The reduced metrics; the caller owns them.</returns>
    public static Tree<DeviceArray> ReduceCustomStatic(Tree<DeviceArray> metrics, IReadOnlyDictionary<string, string?>? reduceFn = null, string axisName = "batch") =>
        s_default.ReduceCustom(metrics, reduceFn, axisName);

    /// <summary>Static twin of <see cref="CollectFromDevices"/>.</summary>
    /// <param name="metrics">Global arrays, a dict at the top.</param>
    /// <returns>Host values.</returns>
    public static Tree<HostArray> CollectFromDevicesStatic(Tree<GlobalArray> metrics) => s_default.CollectFromDevices(metrics);
}
