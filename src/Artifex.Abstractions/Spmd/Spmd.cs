using System.Collections.Immutable;

namespace Artifex;

/// <summary>
/// Mapped computations over a mesh: <c>ShardMap</c> (JAX <c>shard_map</c>) and <see cref="PMap"/>
/// (JAX <c>pmap</c>), built on <see cref="DeviceProvider.RunSpmd"/>.
/// </summary>
/// <remarks>
/// Over a mesh that spans processes (the MPI provider under <c>mpirun</c>) every process makes the same call, as in
/// JAX's multi-controller model: each passes global arrays of which it holds its own devices' blocks, runs the body for
/// its own devices, and receives global arrays holding its own devices' output blocks
/// (<see cref="GlobalArray.IsFullyAddressable"/> tells whether it holds all of them). The collectives in the body reach
/// across processes.
/// </remarks>
public static class Spmd
{
    /// <summary>
    /// Runs <paramref name="body"/> once per device on its local blocks and reassembles the results (JAX
    /// <c>shard_map(f, mesh, in_specs, out_specs)</c>).
    /// </summary>
    /// <param name="mesh">The mesh; every axis name is bound in the body.</param>
    /// <param name="inputs">Global arrays; each is split by <paramref name="inSpec"/> into per-device blocks. An input already laid out that way is used without a copy.</param>
    /// <param name="inSpec">The partition spec of every input.</param>
    /// <param name="outSpec">How every output is reassembled: a dimension split over axes is the concatenation of the local blocks; <c>P()</c> means every device holds the whole (replicated) value.</param>
    /// <param name="body">The per-device function. Its inputs are views it must not dispose; the arrays it returns are taken over (views are copied).</param>
    /// <returns>The outputs as global arrays. The caller owns them.</returns>
    /// <exception cref="ArgumentException">
    /// An input does not fit <paramref name="inSpec"/> (or would need resharding while other processes hold part of it),
    /// the devices return different structures, element types or shapes, or the mesh has no device of this process.
    /// </exception>
    /// <example>
    /// Each device gets its rows; the body adds the devices' blocks element-wise, so every device returns the same sum:
    /// <code>
    /// var mesh = new Mesh(provider.Devices, ("data", provider.Devices.Count));
    /// using GlobalArray x = GlobalArray.DevicePut(HostArray.From(values, rows, 4), new NamedSharding(mesh, new PartitionSpec("data")));
    /// Tree&lt;GlobalArray&gt; sum = Spmd.ShardMap(mesh, x, new PartitionSpec("data"), PartitionSpec.Replicated,
    ///     (context, local) => Collectives.Psum(local.Value.As&lt;float&gt;(), "data"));
    /// // sum.Value: shape (rows / devices, 4); the caller disposes it.
    /// </code>
    /// </example>
    public static Tree<GlobalArray> ShardMap(
        Mesh mesh,
        Tree<GlobalArray> inputs,
        PartitionSpec inSpec,
        PartitionSpec outSpec,
        Func<SpmdContext, Tree<DeviceArray>, Tree<DeviceArray>> body)
    {
        ArgumentNullException.ThrowIfNull(inSpec);
        ArgumentNullException.ThrowIfNull(outSpec);
        return ShardMap(mesh, inputs, (_, _) => inSpec, (_, _) => outSpec, body);
    }

    /// <summary>Runs <paramref name="body"/> once per device with a partition spec chosen per input and per output leaf.</summary>
    /// <param name="mesh">The mesh.</param>
    /// <param name="inputs">Global arrays.</param>
    /// <param name="inSpecs">Chooses the spec of an input leaf from its path and value.</param>
    /// <param name="outSpecs">Chooses the spec of an output leaf from its path and device 0's local value.</param>
    /// <param name="body">The per-device function.</param>
    /// <returns>The outputs as global arrays. The caller owns them.</returns>
    /// <exception cref="ArgumentException">An input does not fit its spec, the devices return different structures, element types or shapes, or the mesh has no device of this process.</exception>
    public static Tree<GlobalArray> ShardMap(
        Mesh mesh,
        Tree<GlobalArray> inputs,
        Func<TreePath, GlobalArray, PartitionSpec> inSpecs,
        Func<TreePath, DeviceArray, PartitionSpec> outSpecs,
        Func<SpmdContext, Tree<DeviceArray>, Tree<DeviceArray>> body)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(inSpecs);
        ArgumentNullException.ThrowIfNull(outSpecs);
        ArgumentNullException.ThrowIfNull(body);
        DeviceProvider provider = ProviderOf(mesh);
        return new MappedRun(mesh, provider, squeezeLeadingAxis: false).Run(inputs, inSpecs, outSpecs, body);
    }

    /// <summary>
    /// Maps <paramref name="body"/> over the leading axis of the inputs, one slice per device, and stacks the results
    /// on a new leading axis (JAX <c>pmap(f, axis_name=...)</c>).
    /// </summary>
    /// <param name="provider">The provider; the first <c>n</c> of its devices are used, <c>n</c> being the leading size (on a multi-process provider, devices of every process in id order; some must be this process's).</param>
    /// <param name="axisName">The axis name bound in the body.</param>
    /// <param name="inputs">Host arrays that share one leading size <c>n</c>; on a multi-process provider every process passes the same values and places its own devices' slices.</param>
    /// <param name="body">The per-device function; it sees each input without its leading axis.</param>
    /// <returns>The outputs, each of shape <c>(n, …)</c>, holding this process's slices. The caller owns them.</returns>
    /// <exception cref="ArgumentException">The inputs have no common leading size, it exceeds the device count, or none of the first <c>n</c> devices is this process's.</exception>
    public static Tree<GlobalArray> PMap(
        DeviceProvider provider,
        string axisName,
        Tree<HostArray> inputs,
        Func<SpmdContext, Tree<DeviceArray>, Tree<DeviceArray>> body)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentException.ThrowIfNullOrEmpty(axisName);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(body);
        ImmutableArray<KeyValuePair<TreePath, HostArray>> leaves = inputs.LeavesWithPaths();
        if (leaves.Length == 0)
        {
            throw new ArgumentException("pmap needs at least one input to take the mapped size from.", nameof(inputs));
        }

        long n = leaves[0].Value.Rank > 0 ? leaves[0].Value.Shape[0] : -1;
        foreach ((TreePath path, HostArray leaf) in leaves)
        {
            if (leaf.Rank == 0 || leaf.Shape[0] != n)
            {
                throw new ArgumentException($"pmap inputs must share one leading size, but '{path}' has shape {Python.Shape(leaf.Shape.AsSpan())} and the first input leads with {n}.", nameof(inputs));
            }
        }

        if (n < 1 || n > provider.Devices.Count)
        {
            throw new ArgumentException($"pmap over {n} slices requires {n} logical devices, but the provider has {provider.Devices.Count}.", nameof(inputs));
        }

        var mesh = new Mesh(provider.Devices.Take((int)n), (axisName, (int)n));
        ProviderOf(mesh);
        var spec = new PartitionSpec(axisName);
        Tree<GlobalArray> placed = inputs.DevicePut(new NamedSharding(mesh, spec));
        try
        {
            return new MappedRun(mesh, provider, squeezeLeadingAxis: true).Run(placed, (_, _) => spec, (_, _) => spec, body);
        }
        finally
        {
            placed.DisposeLeaves();
        }
    }

    private static DeviceProvider ProviderOf(Mesh mesh)
    {
        DeviceProvider? provider = mesh.Devices[0].Provider;
        if (provider is null || mesh.Devices.Any(d => !ReferenceEquals(d.Provider, provider)))
        {
            throw new ArgumentException($"Every device of {mesh} must belong to one provider.", nameof(mesh));
        }

        // Every process runs the call for its own devices, so each needs some (the rule of a region on several processes).
        int absent = Enumerable.Range(0, provider.ProcessCount).FirstOrDefault(p => !mesh.Devices.Any(d => d.ProcessIndex == p), -1);
        if (absent >= 0)
        {
            throw new ArgumentException(
                $"{mesh} has no device of process {absent}; over {provider.ProcessCount} processes, ShardMap and PMap take a mesh with devices of every process, and every process makes the call.",
                nameof(mesh));
        }

        return provider;
    }
}
