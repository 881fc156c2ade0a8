using System.Collections.Immutable;

namespace Artifex;

/// <summary>How a global array is laid out over devices.</summary>
/// <remarks>
/// The counterpart of <c>jax.sharding.Sharding</c>. Shardings are immutable descriptors; shape checks are
/// deferred until an array is placed, as in JAX.
/// </remarks>
public abstract class Sharding
{
    /// <summary>Gets the devices that hold shards, in shard order (row-major over the mesh).</summary>
    public abstract ImmutableArray<Device> Devices { get; }

    /// <summary>Gets a value indicating whether every device holds the whole array.</summary>
    public abstract bool IsFullyReplicated { get; }

    /// <summary>Throws when an array of <paramref name="globalShape"/> cannot be placed with this sharding.</summary>
    /// <param name="globalShape">The global shape.</param>
    /// <param name="path">The tree path of the leaf, named in the message.</param>
    /// <param name="paramName">The caller's parameter that holds the array (or tree), for the exception; by default <paramref name="globalShape"/>.</param>
    /// <exception cref="ArgumentException">The rank is too small for the spec, or a split dimension is not divisible (JAX's texts, plus the leaf path).</exception>
    public void Validate(ReadOnlySpan<long> globalShape, TreePath path = default, string? paramName = null)
    {
        string? error = GetValidationError(globalShape);
        if (error is not null)
        {
            throw new ArgumentException(ErrorMessages.AtLeaf(error, path), paramName ?? nameof(globalShape));
        }
    }

    /// <summary>Gets the reason an array of <paramref name="globalShape"/> cannot be placed, or <see langword="null"/> when it can.</summary>
    /// <param name="globalShape">The global shape.</param>
    /// <returns>JAX's message, or <see langword="null"/>.</returns>
    public string? GetValidationError(ReadOnlySpan<long> globalShape)
    {
        foreach (long length in globalShape)
        {
            if (length < 0)
            {
                return $"Array dimensions must be non-negative, but the shape is {Python.Shape(globalShape)}.";
            }
        }

        return GetValidationErrorCore(globalShape);
    }

    /// <summary>Gets the shape of each shard (JAX <c>shard_shape</c>).</summary>
    /// <param name="globalShape">The global shape.</param>
    /// <returns>The shard shape.</returns>
    /// <exception cref="ArgumentException">The shape does not fit the sharding.</exception>
    public long[] GetShardShape(ReadOnlySpan<long> globalShape)
    {
        Validate(globalShape);
        return GetShardPlacementsCore(globalShape)[0].Shape;
    }

    /// <summary>Gets, for every device, the block it holds and its replica id (JAX <c>devices_indices_map</c> plus replica ids).</summary>
    /// <param name="globalShape">The global shape.</param>
    /// <returns>One placement per device, in <see cref="Devices"/> order.</returns>
    /// <exception cref="ArgumentException">The shape does not fit the sharding.</exception>
    public IReadOnlyList<ShardPlacement> GetShardPlacements(ReadOnlySpan<long> globalShape)
    {
        Validate(globalShape);
        return GetShardPlacementsCore(globalShape);
    }

    /// <summary>Checks a shape whose dimensions are known to be non-negative.</summary>
    /// <param name="globalShape">The global shape.</param>
    /// <returns>The error text or <see langword="null"/>.</returns>
    protected abstract string? GetValidationErrorCore(ReadOnlySpan<long> globalShape);

    /// <summary>Computes the placements for a shape that passed validation.</summary>
    /// <param name="globalShape">The global shape.</param>
    /// <returns>One placement per device.</returns>
    protected abstract IReadOnlyList<ShardPlacement> GetShardPlacementsCore(ReadOnlySpan<long> globalShape);

    /// <summary>Creates a placement record. For derived shardings.</summary>
    /// <param name="device">The device.</param>
    /// <param name="index">The block, one range per dimension.</param>
    /// <param name="replicaId">The replica id.</param>
    /// <returns>The placement.</returns>
    protected static ShardPlacement CreatePlacement(Device device, ImmutableArray<DimensionSlice> index, int replicaId) =>
        new(device, index, replicaId);
}
