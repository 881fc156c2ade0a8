using System.Collections.Immutable;

namespace Artifex;

/// <summary>Where one shard of an array lives: its device, the block of the global array it holds, and its replica id.</summary>
/// <remarks>
/// JAX's <c>Shard</c> record without its data: <c>Index</c> has one range per array dimension (the whole
/// dimension when unsplit); <c>ReplicaId</c> is the ordinal among the devices that hold the identical block,
/// counted row-major over the mesh axes the spec does not use.
/// </remarks>
public sealed class ShardPlacement
{
    internal ShardPlacement(Device device, ImmutableArray<DimensionSlice> index, int replicaId)
    {
        Device = device;
        Index = index;
        ReplicaId = replicaId;
    }

    /// <summary>Gets the device that holds the shard.</summary>
    public Device Device { get; }

    /// <summary>Gets the block of the global array, one range per dimension.</summary>
    public ImmutableArray<DimensionSlice> Index { get; }

    /// <summary>Gets the replica id.</summary>
    public int ReplicaId { get; }

    /// <summary>Gets the shape of the shard.</summary>
    public long[] Shape => [.. Index.Select(s => s.Length)];

    /// <summary>Returns e.g. <c>cpu:1 [2:4, 0:3] replica 0</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"{Device} [{string.Join(", ", Index)}] replica {ReplicaId}";
}
