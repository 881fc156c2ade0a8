using System.Collections.Immutable;

namespace Artifex;

/// <summary>
/// How each dimension of an array is split over the axes of a mesh: one <see cref="PartitionDim"/>
/// per array dimension, from the left.
/// </summary>
/// <remarks>
/// The counterpart of <c>jax.sharding.PartitionSpec</c> (<c>P</c>). Missing trailing entries mean
/// unsplit, so <c>P("data")</c> on a 2-D array is <c>P("data", None)</c>; mesh axes the spec does not
/// name are replicated. <see cref="Replicated"/> (<c>P()</c>) replicates everything and is the only spec
/// valid for scalars. Equality is structural: <c>P("data")</c> and <c>P("data", None)</c> shard alike but
/// are different values, as in several JAX versions.
/// </remarks>
public sealed class PartitionSpec : IEquatable<PartitionSpec>
{
    /// <summary>Creates a spec from its entries, e.g. <c>new PartitionSpec("data")</c> or <c>new PartitionSpec(null, "model")</c>.</summary>
    /// <param name="entries">One entry per array dimension; none gives <see cref="Replicated"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="entries"/> is null (write <c>PartitionDim.None</c> for one unsplit entry).</exception>
    public PartitionSpec(params PartitionDim[] entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        Entries = [.. entries];
    }

    /// <summary>Gets the fully replicated spec <c>P()</c>.</summary>
    public static PartitionSpec Replicated { get; } = new();

    /// <summary>Gets the entries, one per leading array dimension.</summary>
    public ImmutableArray<PartitionDim> Entries { get; }

    /// <summary>Gets the number of entries.</summary>
    public int Count => Entries.Length;

    /// <summary>Gets an entry.</summary>
    /// <param name="index">The array dimension.</param>
    /// <returns>The entry.</returns>
    public PartitionDim this[int index] => Entries[index];

    /// <summary>Gets every mesh axis named by the spec, in order of appearance (repeats included).</summary>
    public IEnumerable<string> AxisNames => Entries.SelectMany(e => e.AxisNames);

    /// <inheritdoc/>
    public bool Equals(PartitionSpec? other) => other is not null && Entries.SequenceEqual(other.Entries);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PartitionSpec);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (PartitionDim entry in Entries)
        {
            hash.Add(entry);
        }

        return hash.ToHashCode();
    }

    /// <summary>Returns JAX's form, e.g. <c>PartitionSpec('data',)</c>, <c>PartitionSpec()</c>, <c>PartitionSpec(None, 'model')</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() =>
        Entries.Length == 0 ? "PartitionSpec()" : "PartitionSpec" + Python.Tuple(Entries.Select(e => e.ToString()));

    /// <summary>Compares two specs.</summary>
    /// <param name="left">The first spec.</param>
    /// <param name="right">The second spec.</param>
    /// <returns><see langword="true"/> when both are null or equal.</returns>
    public static bool operator ==(PartitionSpec? left, PartitionSpec? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Compares two specs.</summary>
    /// <param name="left">The first spec.</param>
    /// <param name="right">The second spec.</param>
    /// <returns><see langword="true"/> when different.</returns>
    public static bool operator !=(PartitionSpec? left, PartitionSpec? right) => !(left == right);
}
