using System.Collections.Immutable;

namespace Artifex;

/// <summary>
/// The participants of a collective over one mesh axis or an ordered tuple of axes, seen from one participant.
/// </summary>
/// <remarks>
/// Reducing over <c>"data"</c> on a (data, model) mesh groups the devices that share a <c>"model"</c>
/// coordinate; the rank of a participant is its position along the named axes, row-major in the order given
/// (JAX <c>axis_index</c>). Ranks fix the order of every floating-point reduction.
/// </remarks>
public sealed class AxisGroup
{
    private readonly int[] _axes;
    private readonly int[] _otherAxes;

    internal AxisGroup(Mesh mesh, ImmutableArray<string> names, int[] axes, ImmutableArray<int> coordinate)
    {
        Mesh = mesh;
        Names = names;
        _axes = axes;
        _otherAxes = [.. Enumerable.Range(0, mesh.Rank).Where(a => Array.IndexOf(axes, a) < 0)];
        Key = string.Join('\u001F', names);
        int size = 1;
        int rank = 0;
        foreach (int axis in axes)
        {
            size *= mesh.AxisSizes[axis];
            rank = (rank * mesh.AxisSizes[axis]) + coordinate[axis];
        }

        int groupCount = 1;
        int groupIndex = 0;
        foreach (int axis in _otherAxes)
        {
            groupCount *= mesh.AxisSizes[axis];
            groupIndex = (groupIndex * mesh.AxisSizes[axis]) + coordinate[axis];
        }

        Size = size;
        Rank = rank;
        GroupCount = groupCount;
        GroupIndex = groupIndex;
        Coordinate = coordinate;
    }

    /// <summary>Gets the mesh.</summary>
    public Mesh Mesh { get; }

    /// <summary>Gets the axis names, in the order given.</summary>
    public ImmutableArray<string> Names { get; }

    /// <summary>Gets a key that identifies the axis tuple within its mesh.</summary>
    public string Key { get; }

    /// <summary>Gets the number of participants (the product of the axis sizes; JAX <c>axis_size</c>).</summary>
    public int Size { get; }

    /// <summary>Gets this participant's rank in the group (JAX <c>axis_index</c>).</summary>
    public int Rank { get; }

    /// <summary>Gets the number of disjoint groups the mesh splits into for these axes.</summary>
    public int GroupCount { get; }

    /// <summary>Gets the index of this participant's group, row-major over the other mesh axes.</summary>
    public int GroupIndex { get; }

    internal ImmutableArray<int> Coordinate { get; }

    /// <summary>Gets the row-major mesh position of the participant with a given rank in this participant's group.</summary>
    /// <param name="rank">The rank, 0 to <see cref="Size"/> − 1.</param>
    /// <returns>The index into <see cref="Mesh.Devices"/>.</returns>
    public int GetDeviceIndex(int rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, Size);
        Span<int> coordinate = stackalloc int[Mesh.Rank];
        Coordinate.AsSpan().CopyTo(coordinate);
        for (int k = _axes.Length - 1; k >= 0; k--)
        {
            int size = Mesh.AxisSizes[_axes[k]];
            coordinate[_axes[k]] = rank % size;
            rank /= size;
        }

        int flat = 0;
        for (int axis = 0; axis < Mesh.Rank; axis++)
        {
            flat = (flat * Mesh.AxisSizes[axis]) + coordinate[axis];
        }

        return flat;
    }

    /// <summary>Returns e.g. <c>'data'</c> or <c>('data', 'model')</c>.</summary>
    /// <returns>The axis names as Python would print them.</returns>
    public override string ToString() => Names.Length == 1 ? Python.Str(Names[0]) : Python.Tuple(Names.Select(Python.Str));
}
