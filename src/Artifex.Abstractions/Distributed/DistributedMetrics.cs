namespace Artifex.Distributed;

/// <summary>
/// Reductions of metric trees across devices: the port of artifex's <c>DistributedMetrics</c>. Call the reductions
/// inside an SPMD region; <see cref="CollectFromDevices"/> runs on the host.
/// </summary>
/// <remarks>
/// Improvements over the original: every leaf is a device array, so a sample count held as a scalar array is reduced
/// like any other leaf (the original silently skips plain numbers); <see cref="ReduceCustom"/> rejects unknown op names
/// and recurses into nested dicts like the other reductions; <see cref="CollectFromDevices"/> returns host values.
/// Every reduction returns new arrays the caller owns.
/// </remarks>
public sealed partial class DistributedMetrics
{
    private static readonly DistributedMetrics s_default = new();

    private readonly ICollectives _collectives;

    /// <summary>Creates the helper with the real collectives of the current SPMD region.</summary>
    public DistributedMetrics()
        : this(AmbientCollectives.Instance)
    {
    }

    /// <summary>Creates the helper with a collectives back-end, called once per leaf.</summary>
    /// <param name="collectives">The back-end.</param>
    public DistributedMetrics(ICollectives collectives)
    {
        ArgumentNullException.ThrowIfNull(collectives);
        _collectives = collectives;
    }

    /// <summary>Stacks every device's value of each metric in rank order (artifex <c>all_gather</c>).</summary>
    /// <param name="metrics">This participant's metrics.</param>
    /// <param name="axisName">The axis.</param>
    /// <returns>Arrays of shape <c>(n, …)</c>; the caller owns them.</returns>
    public Tree<DeviceArray> AllGather(Tree<DeviceArray> metrics, string axisName = "batch") => Reduce(metrics, axisName, MetricOp.Gather);

    /// <summary>Averages each metric over the axis (artifex <c>reduce_mean</c>).</summary>
    /// <param name="metrics">This participant's metrics.</param>
    /// <param name="axisName">The axis.</param>
    /// <returns>The means; the caller owns them.</returns>
    public Tree<DeviceArray> ReduceMean(Tree<DeviceArray> metrics, string axisName = "batch") => Reduce(metrics, axisName, MetricOp.Mean);

    /// <summary>Sums each metric over the axis (artifex <c>reduce_sum</c>).</summary>
    /// <param name="metrics">This participant's metrics.</param>
    /// <param name="axisName">The axis.</param>
    /// <returns>The sums; the caller owns them.</returns>
    public Tree<DeviceArray> ReduceSum(Tree<DeviceArray> metrics, string axisName = "batch") => Reduce(metrics, axisName, MetricOp.Sum);

    /// <summary>The maximum of each metric over the axis (artifex <c>reduce_max</c>).</summary>
    /// <param name="metrics">This participant's metrics.</param>
    /// <param name="axisName">The axis.</param>
    /// <returns>The maxima; the caller owns them.</returns>
    public Tree<DeviceArray> ReduceMax(Tree<DeviceArray> metrics, string axisName = "batch") => Reduce(metrics, axisName, MetricOp.Max);

    /// <summary>The minimum of each metric over the axis (artifex <c>reduce_min</c>).</summary>
    /// <param name="metrics">This participant's metrics.</param>
    /// <param name="axisName">The axis.</param>
    /// <returns>The minima; the caller owns them.</returns>
    public Tree<DeviceArray> ReduceMin(Tree<DeviceArray> metrics, string axisName = "batch") => Reduce(metrics, axisName, MetricOp.Min);

    /// <summary>
    /// Reduces each top-level metric with its own op (artifex <c>reduce_custom</c>): <c>"mean"</c>, <c>"sum"</c>,
    /// <c>"max"</c>, <c>"min"</c>, or <see langword="null"/> to copy the value unreduced; a key missing from
    /// <paramref name="reduceFn"/> is averaged. A nested dict is reduced whole with its key's op.
    /// </summary>
    /// <param name="metrics">This participant's metrics, a dict at the top.</param>
    /// <param name="reduceFn">Op per top-level key; <see langword="null"/> averages everything.</param>
    /// <param name="axisName">The axis.</param>
    /// <returns>The reduced metrics; the caller owns them.</returns>
    /// <exception cref="ArgumentException">An op name is unknown (the original ignores it silently), or the top of a non-empty tree is not a dict.</exception>
    public Tree<DeviceArray> ReduceCustom(Tree<DeviceArray> metrics, IReadOnlyDictionary<string, string?>? reduceFn = null, string axisName = "batch")
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(axisName);
        if (reduceFn is null)
        {
            return ReduceMean(metrics, axisName);
        }

        foreach ((string key, string? op) in reduceFn)
        {
            _ = ParseOp(key, op);
        }

        if (metrics.LeafCount == 0)
        {
            return metrics;
        }

        if (metrics.Kind != TreeKind.Dict)
        {
            throw new ArgumentException($"reduce_custom needs a dict of metrics at the top, not a {metrics.Kind} node.", nameof(metrics));
        }

        var done = new List<Tree<DeviceArray>>();
        try
        {
            for (int i = 0; i < metrics.Keys.Length; i++)
            {
                string key = metrics.Keys[i];
                MetricOp op = ParseOp(key, reduceFn.TryGetValue(key, out string? name) ? name : "mean");
                done.Add(Reduce(metrics.Children[i], axisName, op));
            }
        }
        catch
        {
            foreach (Tree<DeviceArray> tree in done)
            {
                tree.DisposeLeaves();
            }

            throw;
        }

        return Tree.Dict(metrics.Keys.Select((k, i) => KeyValuePair.Create(k, done[i])));
    }

    /// <summary>
    /// Splits stacked per-device values (e.g. pmap outputs) into one host value per device (artifex
    /// <c>collect_from_devices</c>): each top-level array of rank ≥ 1 becomes a list of its slices along dimension 0;
    /// other values are copied to the host as they are.
    /// </summary>
    /// <param name="metrics">Global arrays, a dict at the top.</param>
    /// <returns>Host values (the original returns device arrays).</returns>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "Mirrors an instance method of artifex's DistributedMetrics; the static twin exists separately.")]
    public Tree<HostArray> CollectFromDevices(Tree<GlobalArray> metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        if (metrics.Kind != TreeKind.Dict)
        {
            return metrics.ToHost();
        }

        return Tree.Dict(metrics.Keys.Select((key, i) =>
        {
            Tree<GlobalArray> child = metrics.Children[i];
            return KeyValuePair.Create(key, child.IsLeaf && child.Value.Rank > 0 ? Slices(child.Value.ToHostArray()) : child.ToHost());
        }));
    }

    private static Tree<HostArray> Slices(HostArray stacked) => Tree.List<HostArray>(
        Enumerable.Range(0, (int)stacked.Shape[0]).Select(i => Tree.Leaf(stacked.Slice(i))));

    private static MetricOp ParseOp(string key, string? op) => op switch
    {
        "mean" => MetricOp.Mean,
        "sum" => MetricOp.Sum,
        "max" => MetricOp.Max,
        "min" => MetricOp.Min,
        null => MetricOp.Copy,
        _ => throw new ArgumentException($"Unknown reduce op '{op}' for metric '{key}'. Use 'mean', 'sum', 'max', 'min' or null.", nameof(op)),
    };

    private Tree<DeviceArray> Reduce(Tree<DeviceArray> metrics, string axisName, MetricOp op)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(axisName);
        return metrics.LeafCount == 0 ? metrics : DataParallel.MapOwned(metrics, leaf => op switch
        {
            MetricOp.Mean => _collectives.Pmean(leaf, axisName),
            MetricOp.Sum => _collectives.Psum(leaf, axisName),
            MetricOp.Max => _collectives.Pmax(leaf, axisName),
            MetricOp.Min => _collectives.Pmin(leaf, axisName),
            MetricOp.Gather => _collectives.AllGather(leaf, axisName),
            _ => leaf.Clone(),
        });
    }

    private enum MetricOp
    {
        Mean,
        Sum,
        Max,
        Min,
        Gather,
        Copy,
    }
}
