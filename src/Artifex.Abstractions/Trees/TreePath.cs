using System.Collections.Immutable;
using System.Globalization;

namespace Artifex;

/// <summary>The path from the root of a tree to a node, printed as <c>params/dense1/kernel</c>.</summary>
/// <remarks>Dict keys appear as themselves and list positions as decimal numbers. The root path is empty.</remarks>
public readonly struct TreePath : IEquatable<TreePath>
{
    private readonly ImmutableArray<string> _segments;

    private TreePath(ImmutableArray<string> segments) => _segments = segments;

    /// <summary>Gets the path of the root.</summary>
    public static TreePath Root => default;

    /// <summary>Gets the segments from the root down.</summary>
    public ImmutableArray<string> Segments => _segments.IsDefault ? [] : _segments;

    /// <summary>Gets a value indicating whether this is the root path.</summary>
    public bool IsRoot => _segments.IsDefaultOrEmpty;

    /// <summary>Parses a path written as <c>a/b/0</c>.</summary>
    /// <param name="path">The text; empty gives the root.</param>
    /// <returns>The path.</returns>
    public static TreePath Parse(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return path.Length == 0 ? Root : new TreePath([.. path.Split('/')]);
    }

    /// <summary>Returns the path of a dict child.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The child path.</returns>
    public TreePath Append(string key) => new(Segments.Add(key));

    /// <summary>Returns the path of a list child.</summary>
    /// <param name="index">The position.</param>
    /// <returns>The child path.</returns>
    public TreePath Append(int index) => new(Segments.Add(index.ToString(CultureInfo.InvariantCulture)));

    /// <inheritdoc/>
    public bool Equals(TreePath other) => Segments.SequenceEqual(other.Segments, StringComparer.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is TreePath other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (string segment in Segments)
        {
            hash.Add(segment, StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }

    /// <summary>Returns the segments joined by <c>/</c>; the root prints as an empty string.</summary>
    /// <returns>The path text.</returns>
    public override string ToString() => string.Join('/', Segments);

    /// <summary>Compares two paths.</summary>
    /// <param name="left">The first path.</param>
    /// <param name="right">The second path.</param>
    /// <returns><see langword="true"/> when equal.</returns>
    public static bool operator ==(TreePath left, TreePath right) => left.Equals(right);

    /// <summary>Compares two paths.</summary>
    /// <param name="left">The first path.</param>
    /// <param name="right">The second path.</param>
    /// <returns><see langword="true"/> when different.</returns>
    public static bool operator !=(TreePath left, TreePath right) => !left.Equals(right);
}
