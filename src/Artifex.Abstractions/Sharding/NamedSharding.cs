using System.Collections.Immutable;

namespace Artifex;

/// <summary>A sharding given by a mesh and a partition spec (JAX <c>NamedSharding</c>).</summary>
/// <remarks>
/// A dimension whose entry names axes <c>(a, b)</c> is split into <c>|a|·|b|</c> equal contiguous blocks;
/// the device at mesh coordinate (i, j) along those axes holds block <c>i·|b| + j</c>. Mesh axes the spec
/// does not name replicate each block. Checks that need only the mesh and spec run here; shape checks run at
/// placement (<see cref="Sharding.Validate"/>).
/// </remarks>
public sealed class NamedSharding : Sharding, IEquatable<NamedSharding>
{
    private readonly int[][] _dimensionAxes;
    private readonly int[] _unusedAxes;

    /// <summary>Creates the sharding.</summary>
    /// <param name="mesh">The mesh.</param>
    /// <param name="spec">The partition spec.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The spec names an axis the mesh lacks, or names an axis twice (JAX's texts).</exception>
    public NamedSharding(Mesh mesh, PartitionSpec spec)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentNullException.ThrowIfNull(spec);
        var used = new HashSet<string>(StringComparer.Ordinal);
        _dimensionAxes = new int[spec.Count][];
        for (int d = 0; d < spec.Count; d++)
        {
            ImmutableArray<string> names = spec[d].AxisNames;
            _dimensionAxes[d] = new int[names.Length];
            for (int k = 0; k < names.Length; k++)
            {
                int axis = mesh.IndexOfAxis(names[k]);
                if (axis < 0)
                {
                    throw new ArgumentException(ErrorMessages.ResourceAxisNotFound(names[k], spec, mesh), nameof(spec));
                }

                if (!used.Add(names[k]))
                {
                    throw new ArgumentException(ErrorMessages.DuplicateSpecAxis(spec, names[k]), nameof(spec));
                }

                _dimensionAxes[d][k] = axis;
            }
        }

        _unusedAxes = [.. Enumerable.Range(0, mesh.Rank).Where(a => !used.Contains(mesh.AxisNames[a]))];
        Mesh = mesh;
        Spec = spec;
    }

    /// <summary>Gets the mesh.</summary>
    public Mesh Mesh { get; }

    /// <summary>Gets the partition spec.</summary>
    public PartitionSpec Spec { get; }

    /// <inheritdoc/>
    public override ImmutableArray<Device> Devices => Mesh.Devices;

    /// <inheritdoc/>
    public override bool IsFullyReplicated => Enumerable.Range(0, _dimensionAxes.Length).All(d => GetSplitCount(d) == 1);

    /// <summary>Gets the number of blocks an array dimension is split into (1 when unsplit).</summary>
    /// <param name="dimension">The array dimension.</param>
    /// <returns>The product of the sizes of the axes that split it.</returns>
    public int GetSplitCount(int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(dimension);
        if (dimension >= _dimensionAxes.Length)
        {
            return 1;
        }

        int count = 1;
        foreach (int axis in _dimensionAxes[dimension])
        {
            count *= Mesh.AxisSizes[axis];
        }

        return count;
    }

    /// <inheritdoc/>
    public bool Equals(NamedSharding? other) => other is not null && Mesh == other.Mesh && Spec == other.Spec;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as NamedSharding);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Mesh, Spec);

    /// <summary>Returns JAX's form, e.g. <c>NamedSharding(mesh=Mesh('data': 2), spec=PartitionSpec('data',), memory_kind=device)</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"NamedSharding(mesh={Mesh}, spec={Spec}, memory_kind=device)";

    /// <inheritdoc/>
    protected override string? GetValidationErrorCore(ReadOnlySpan<long> globalShape)
    {
        if (Spec.Count > globalShape.Length)
        {
            return ErrorMessages.RankTooSmall(this, Spec.Count, globalShape.Length);
        }

        for (int d = 0; d < Spec.Count; d++)
        {
            int split = GetSplitCount(d);
            if (globalShape[d] % split != 0)
            {
                return ErrorMessages.NotDivisible(this, d, split, globalShape[d], globalShape);
            }
        }

        return null;
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<ShardPlacement> GetShardPlacementsCore(ReadOnlySpan<long> globalShape)
    {
        var placements = new ShardPlacement[Mesh.Size];
        for (int k = 0; k < Mesh.Size; k++)
        {
            int[] coordinate = Mesh.GetCoordinate(k);
            var index = ImmutableArray.CreateBuilder<DimensionSlice>(globalShape.Length);
            for (int d = 0; d < globalShape.Length; d++)
            {
                int split = GetSplitCount(d);
                if (split == 1)
                {
                    index.Add(new DimensionSlice(0, globalShape[d]));
                    continue;
                }

                long block = 0;
                foreach (int axis in _dimensionAxes[d])
                {
                    block = (block * Mesh.AxisSizes[axis]) + coordinate[axis];
                }

                long size = globalShape[d] / split;
                index.Add(new DimensionSlice(block * size, size));
            }

            int replica = 0;
            foreach (int axis in _unusedAxes)
            {
                replica = (replica * Mesh.AxisSizes[axis]) + coordinate[axis];
            }

            placements[k] = CreatePlacement(Mesh.Devices[k], index.MoveToImmutable(), replica);
        }

        return placements;
    }
}
