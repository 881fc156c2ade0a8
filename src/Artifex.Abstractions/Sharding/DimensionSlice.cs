using System.Runtime.InteropServices;

namespace Artifex;

/// <summary>The range of one array dimension that a shard holds: elements <c>[Start, Start + Length)</c>.</summary>
/// <param name="Start">The first index.</param>
/// <param name="Length">The number of indices.</param>
[StructLayout(LayoutKind.Auto)]
public readonly record struct DimensionSlice(long Start, long Length)
{
    /// <summary>Gets the index one past the last.</summary>
    public long Stop => Start + Length;

    /// <summary>Returns Python's slice form, e.g. <c>2:4</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"{Start}:{Stop}";
}
