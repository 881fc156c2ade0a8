using System.Runtime.InteropServices;

namespace Artifex.Runtime;

/// <summary>
/// A counter alone on its own pair of cache lines, so that threads hammering it with interlocked operations do not
/// evict the read-mostly state next to it (false sharing), including through the adjacent-line prefetcher.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
public struct PaddedCounter
{
    /// <summary>The counter; change it only with <see cref="Interlocked"/> or <see cref="Volatile"/> operations.</summary>
    [FieldOffset(64)]
    public long Value;
}
