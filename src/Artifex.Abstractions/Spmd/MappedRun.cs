using System.Collections.Immutable;

namespace Artifex;

/// <summary>The mechanics of one <c>Spmd.ShardMap</c> or <c>Spmd.PMap</c> call: lay out inputs, run the region, take over the outputs.</summary>
/// <remarks>
/// Over a mesh that spans processes every process runs the same call (JAX's multi-controller model): it passes the blocks
/// of its own devices, runs their participants and receives global arrays holding its own devices' output blocks.
/// </remarks>
internal sealed class MappedRun(Mesh mesh, DeviceProvider provider, bool squeezeLeadingAxis)
{
    /// <summary>The mesh positions of this process's devices, ascending.</summary>
    private readonly int[] _local = [.. Enumerable.Range(0, mesh.Size).Where(k => provider.IsAddressable(mesh.Devices[k]))];

    public Tree<GlobalArray> Run(
        Tree<GlobalArray> inputs,
        Func<TreePath, GlobalArray, PartitionSpec> inSpecs,
        Func<TreePath, DeviceArray, PartitionSpec> outSpecs,
        Func<SpmdContext, Tree<DeviceArray>, Tree<DeviceArray>> body)
    {
        var temporaries = new List<GlobalArray>();
        var outputs = new Tree<DeviceArray>?[mesh.Size];
        try
        {
            GlobalArray[] laidOut = LayOutInputs(inputs, inSpecs, temporaries);
            var locals = new Tree<DeviceArray>[mesh.Size];
            foreach (int k in _local)
            {
                locals[k] = inputs.Structure.Unflatten(LocalViews(laidOut, mesh.Devices[k]));
            }

            provider.RunSpmd(mesh, context =>
            {
                outputs[context.DeviceIndex] = body(context, locals[context.DeviceIndex]) ?? throw new InvalidOperationException("The SPMD body returned null; return Tree.Empty<DeviceArray>() for no output.");
            });
            return Assemble(outputs!, outSpecs, laidOut);
        }
        catch
        {
            DisposeOwned(outputs);
            throw;
        }
        finally
        {
            foreach (GlobalArray temporary in temporaries)
            {
                temporary.Dispose();
            }
        }
    }

    private static void DisposeOwned(Tree<DeviceArray>?[] outputs)
    {
        foreach (Tree<DeviceArray>? tree in outputs)
        {
            if (tree is null)
            {
                continue;
            }

            foreach (DeviceArray array in tree.Leaves())
            {
                array.Dispose();
            }
        }
    }

    private GlobalArray[] LayOutInputs(Tree<GlobalArray> inputs, Func<TreePath, GlobalArray, PartitionSpec> inSpecs, List<GlobalArray> temporaries)
    {
        ImmutableArray<KeyValuePair<TreePath, GlobalArray>> leaves = inputs.LeavesWithPaths();
        var shardings = new NamedSharding[leaves.Length];
        for (int i = 0; i < leaves.Length; i++)
        {
            (TreePath path, GlobalArray leaf) = (leaves[i].Key, leaves[i].Value);
            ObjectDisposedException.ThrowIf(leaf.IsDisposed, leaf);
            shardings[i] = new NamedSharding(mesh, inSpecs(path, leaf));
            shardings[i].Validate(leaf.Shape.AsSpan(), path, nameof(inputs));
        }

        var laidOut = new GlobalArray[leaves.Length];
        for (int i = 0; i < leaves.Length; i++)
        {
            GlobalArray leaf = leaves[i].Value;
            if (leaf.Sharding.Equals(shardings[i]))
            {
                laidOut[i] = leaf;
                continue;
            }

            if (!leaf.IsFullyAddressable)
            {
                throw new ArgumentException(
                    $"Input '{leaves[i].Key}' is laid out as {leaf.Sharding}, part of it on other processes, so it cannot be resharded to {shardings[i]} through this process's memory. Place it with that sharding (DevicePut on every process).",
                    nameof(inputs));
            }

            // Resharding goes through the host: correct for any layout, and rare in a training loop.
            laidOut[i] = GlobalArray.DevicePut(leaf.ToHostArray(), shardings[i], leaves[i].Key);
            temporaries.Add(laidOut[i]);
        }

        return laidOut;
    }

    private DeviceArray[] LocalViews(GlobalArray[] laidOut, Device device)
    {
        var views = new DeviceArray[laidOut.Length];
        for (int i = 0; i < laidOut.Length; i++)
        {
            int shard = laidOut[i].IndexOfShard(device);
            long[] shape = laidOut[i].Shards[shard].Shape;
            views[i] = laidOut[i].ShardView(shard, squeezeLeadingAxis ? shape[1..] : shape);
        }

        return views;
    }

    private Tree<GlobalArray> Assemble(Tree<DeviceArray>[] outputs, Func<TreePath, DeviceArray, PartitionSpec> outSpecs, GlobalArray[] inputs)
    {
        int first = _local[0];
        TreeDef structure = outputs[first].Structure;
        foreach (int k in _local)
        {
            if (!outputs[k].Structure.Equals(structure))
            {
                throw new ArgumentException($"Device {mesh.Devices[k]} returned {outputs[k].Structure}, but device {mesh.Devices[first]} returned {structure}.", nameof(outputs));
            }
        }

        ImmutableArray<KeyValuePair<TreePath, DeviceArray>>[] leaves = [.. _local.Select(k => outputs[k].LeavesWithPaths())];
        var inputBuffers = new HashSet<DeviceBuffer>(inputs.SelectMany(static a => a.Shards.Select(static s => s.Buffer)), ReferenceEqualityComparer.Instance);
        var claimed = new HashSet<DeviceBuffer>(ReferenceEqualityComparer.Instance);
        var result = new List<GlobalArray>(structure.LeafCount);
        try
        {
            for (int i = 0; i < structure.LeafCount; i++)
            {
                result.Add(AssembleLeaf(leaves, i, outSpecs, inputBuffers, claimed));
            }
        }
        catch
        {
            foreach (GlobalArray array in result)
            {
                array.Dispose();
            }

            throw;
        }

        return structure.Unflatten(result);
    }

    private GlobalArray AssembleLeaf(
        ImmutableArray<KeyValuePair<TreePath, DeviceArray>>[] leaves,
        int leaf,
        Func<TreePath, DeviceArray, PartitionSpec> outSpecs,
        HashSet<DeviceBuffer> inputBuffers,
        HashSet<DeviceBuffer> claimed)
    {
        (TreePath path, DeviceArray first) = (leaves[0][leaf].Key, leaves[0][leaf].Value);
        for (int j = 0; j < leaves.Length; j++)
        {
            DeviceArray local = leaves[j][leaf].Value;
            Device device = mesh.Devices[_local[j]];
            ObjectDisposedException.ThrowIf(local.IsDisposed, local);
            if (local.ElementType != first.ElementType || !local.Shape.SequenceEqual(first.Shape) || local.Device != device)
            {
                throw new ArgumentException(
                    $"Output '{path}': device {device} returned {local}, but every device must return an array of {first.ElementType.Name}{Python.Shape(first.Shape.AsSpan())} on itself.",
                    nameof(leaves));
            }
        }

        var sharding = new NamedSharding(mesh, outSpecs(path, first));
        long[] localShape = squeezeLeadingAxis ? [1, .. first.Shape] : [.. first.Shape];
        if (sharding.Spec.Count > localShape.Length)
        {
            throw new ArgumentException($"Output '{path}' has rank {first.Rank}, too small for out spec {sharding.Spec}.", nameof(outSpecs));
        }

        long[] globalShape = [.. localShape.Select((d, i) => d * sharding.GetSplitCount(i))];
        var buffers = new DeviceBuffer[leaves.Length];
        for (int k = 0; k < leaves.Length; k++)
        {
            DeviceArray local = leaves[k][leaf].Value;
            DeviceArray owner = !inputBuffers.Contains(local.Buffer) && claimed.Add(local.Buffer) ? local : local.Clone();
            if (!owner.TryDetach())
            {
                owner = local.Clone();
                owner.TryDetach();
            }

            buffers[k] = owner.Buffer;
        }

        try
        {
            return first.WrapAsGlobal(globalShape, sharding, buffers);
        }
        catch
        {
            foreach (DeviceBuffer buffer in buffers)
            {
                buffer.Dispose();
            }

            throw;
        }
    }
}
