using System.Collections.Immutable;

namespace Artifex;

/// <summary>
/// One entry of a <see cref="PartitionSpec"/>: how one array dimension is split over mesh axes.
/// </summary>
/// <remarks>
/// Unsplit (JAX <c>None</c>), one axis name (<c>"data"</c>), or an ordered tuple of axis names
/// (<c>("data", "model")</c>: the dimension is split over the product of the axes, the first one major).
/// A string converts implicitly (<see langword="null"/> meaning unsplit), and so does a pair of names.
/// </remarks>
public readonly struct PartitionDim : IEquatable<PartitionDim>
{
    private readonly ImmutableArray<string> _axes;

    private PartitionDim(ImmutableArray<string> axes) => _axes = axes;

    /// <summary>Gets the unsplit entry (JAX <c>None</c>).</summary>
    public static PartitionDim None => default;

    /// <summary>Gets the mesh axes this dimension is split over, major first; empty when unsplit.</summary>
    public ImmutableArray<string> AxisNames => _axes.IsDefault ? [] : _axes;

    /// <summary>Gets a value indicating whether the dimension is split over at least one axis.</summary>
    public bool IsSplit => !_axes.IsDefaultOrEmpty;

    /// <summary>Creates an entry that splits a dimension over one axis or an ordered tuple of axes.</summary>
    /// <param name="axisNames">The axis names, major first; none means unsplit.</param>
    /// <returns>The entry.</returns>
    /// <exception cref="ArgumentException">An axis name is null or empty.</exception>
    public static PartitionDim Over(params string[] axisNames)
    {
        ArgumentNullException.ThrowIfNull(axisNames);
        foreach (string name in axisNames)
        {
            if (string.IsNullOrEmpty(name))
            {
                throw new ArgumentException("Axis names in a PartitionSpec entry must be non-empty.", nameof(axisNames));
            }
        }

        return new PartitionDim([.. axisNames]);
    }

    /// <summary>Converts one axis name; <see langword="null"/> gives the unsplit entry.</summary>
    /// <param name="axisName">The axis name or <see langword="null"/>.</param>
    public static implicit operator PartitionDim(string? axisName) => axisName is null ? None : Over(axisName);

    /// <summary>Converts an ordered pair of axis names.</summary>
    /// <param name="axisNames">The pair, major first.</param>
    public static implicit operator PartitionDim((string Major, string Minor) axisNames) => Over(axisNames.Major, axisNames.Minor);

    /// <summary>Converts one axis name; <see langword="null"/> gives the unsplit entry.</summary>
    /// <param name="axisName">The axis name or <see langword="null"/>.</param>
    /// <returns>The entry.</returns>
    public static PartitionDim FromString(string? axisName) => axisName;

    /// <inheritdoc/>
    public bool Equals(PartitionDim other) => AxisNames.SequenceEqual(other.AxisNames, StringComparer.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is PartitionDim other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (string name in AxisNames)
        {
            hash.Add(name, StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }

    /// <summary>Returns Python's form: <c>None</c>, <c>'data'</c> or <c>('data', 'model')</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => AxisNames.Length switch
    {
        0 => "None",
        1 => Python.Str(AxisNames[0]),
        _ => Python.Tuple(AxisNames.Select(Python.Str)),
    };

    /// <summary>Compares two entries.</summary>
    /// <param name="left">The first entry.</param>
    /// <param name="right">The second entry.</param>
    /// <returns><see langword="true"/> when equal.</returns>
    public static bool operator ==(PartitionDim left, PartitionDim right) => left.Equals(right);

    /// <summary>Compares two entries.</summary>
    /// <param name="left">The first entry.</param>
    /// <param name="right">The second entry.</param>
    /// <returns><see langword="true"/> when different.</returns>
    public static bool operator !=(PartitionDim left, PartitionDim right) => !left.Equals(right);
}
