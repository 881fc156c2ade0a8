namespace Artifex;

// Placement of whole trees (JAX <c>device_put</c> over a pytree).
public static partial class Tree
{
    /// <summary>Places every leaf of a host tree with one sharding (JAX <c>device_put(tree, sharding)</c>).</summary>
    /// <param name="tree">The host tree; it is not changed. Empty nodes stay empty.</param>
    /// <param name="sharding">The sharding applied to every leaf.</param>
    /// <returns>A tree of the same structure holding new global arrays. The caller owns them (see <see cref="DisposeLeaves{T}"/>).</returns>
    /// <exception cref="ArgumentException">A leaf does not fit the sharding; the message names the leaf's path. Every leaf is checked before anything is placed.</exception>
    public static Tree<GlobalArray> DevicePut(this Tree<HostArray> tree, Sharding sharding)
    {
        ArgumentNullException.ThrowIfNull(sharding);
        return DevicePut(tree, (_, _) => sharding);
    }

    /// <summary>Places every leaf of a host tree with a sharding chosen per leaf.</summary>
    /// <param name="tree">The host tree; it is not changed.</param>
    /// <param name="shardingSelector">Chooses the sharding of a leaf from its path and value.</param>
    /// <returns>A tree of the same structure holding new global arrays. The caller owns them.</returns>
    /// <exception cref="ArgumentException">A leaf does not fit its sharding; the message names the leaf's path. Every leaf is checked before anything is placed.</exception>
    public static Tree<GlobalArray> DevicePut(this Tree<HostArray> tree, Func<TreePath, HostArray, Sharding> shardingSelector)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(shardingSelector);
        var leaves = tree.LeavesWithPaths();
        var shardings = new Sharding[leaves.Length];
        for (int i = 0; i < leaves.Length; i++)
        {
            (TreePath path, HostArray leaf) = (leaves[i].Key, leaves[i].Value);
            shardings[i] = shardingSelector(path, leaf) ?? throw new ArgumentException($"No sharding was chosen for leaf '{path}'.", nameof(shardingSelector));
            shardings[i].Validate(leaf.Shape.AsSpan(), path, nameof(tree));
        }

        var placed = new List<GlobalArray>(leaves.Length);
        try
        {
            for (int i = 0; i < leaves.Length; i++)
            {
                placed.Add(leaves[i].Value.PlaceUntyped(shardings[i], leaves[i].Key));
            }
        }
        catch
        {
            // A failure after validation (e.g. out of memory) must not leave half a tree on the devices.
            foreach (GlobalArray array in placed)
            {
                array.Dispose();
            }

            throw;
        }

        return tree.Structure.Unflatten(placed);
    }

    /// <summary>Gathers every leaf of a tree of global arrays to host memory.</summary>
    /// <param name="tree">The tree of global arrays; it is not changed.</param>
    /// <returns>A tree of the same structure holding host arrays.</returns>
    public static Tree<HostArray> ToHost(this Tree<GlobalArray> tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        return tree.Map(static array => array.ToHostArray());
    }

    /// <summary>
    /// Inside an SPMD region: every leaf's block on a device, as device arrays of the shards' shapes (views of the shards'
    /// memory; disposing them frees nothing). The typed way into a region's data: <c>blocks["x"].Value.As&lt;float&gt;()</c>.
    /// </summary>
    /// <param name="tree">The tree of global arrays.</param>
    /// <param name="device">A device holding a shard of every leaf, usually <see cref="SpmdContext.Device"/>.</param>
    /// <returns>A tree of the same structure holding the blocks.</returns>
    /// <exception cref="ArgumentException">The device holds no shard of a leaf (named by its path).</exception>
    public static Tree<DeviceArray> LocalBlocks(this Tree<GlobalArray> tree, Device device)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(device);
        return tree.MapWithPath((path, array) =>
        {
            try
            {
                return array.GetLocalBlock(device);
            }
            catch (ArgumentException error)
            {
                throw new ArgumentException(ErrorMessages.AtLeaf(error.Message, path), nameof(tree), error);
            }
        });
    }
}
