using System.Collections.Immutable;

namespace Artifex;

/// <summary>One device's piece of a <see cref="GlobalArray"/> (JAX <c>Shard</c>).</summary>
public sealed class Shard
{
    internal Shard(ShardPlacement placement, DeviceBuffer buffer)
    {
        Placement = placement;
        Buffer = buffer;
    }

    /// <summary>Gets the device that holds the shard.</summary>
    public Device Device => Placement.Device;

    /// <summary>Gets the block of the global array the shard holds, one range per dimension.</summary>
    public ImmutableArray<DimensionSlice> Index => Placement.Index;

    /// <summary>Gets the replica id among the devices that hold the same block.</summary>
    public int ReplicaId => Placement.ReplicaId;

    /// <summary>Gets the shard's shape.</summary>
    public long[] Shape => Placement.Shape;

    /// <summary>Gets the device buffer holding the shard's elements, row-major. Owned by the global array.</summary>
    public DeviceBuffer Buffer { get; }

    /// <summary>Gets where the shard lives.</summary>
    public ShardPlacement Placement { get; }

    /// <inheritdoc/>
    public override string ToString() => Placement.ToString();
}
