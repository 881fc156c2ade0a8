using System.Runtime.InteropServices;

namespace Artifex.Cpu.Runtime;

/// <summary>What one participant brings to a collective; every participant's must agree except for the pointers.</summary>
[StructLayout(LayoutKind.Auto)]
internal struct CollectiveDescriptor
{
    public CollectiveKind Kind;
    public Type? ElementType;
    public int ElementSize;
    public ReduceOp Op;
    public long InputLength;
    public long OutputLength;
    public int Root;

    /// <summary>True for a reproducible (PR3) sum; every participant must agree.</summary>
    public bool Reproducible;

    /// <summary>For a reproducible sum: the first input element outside the window, or −1.</summary>
    public long WindowIndex;

    /// <summary>The value at <see cref="WindowIndex"/>.</summary>
    public double WindowValue;
    public nint Input;
    public nint Output;

    public static string Name(CollectiveKind kind) => kind switch
    {
        CollectiveKind.AllReduce => "all_reduce",
        CollectiveKind.AllGather => "all_gather",
        CollectiveKind.ReduceScatter => "psum_scatter",
        CollectiveKind.Broadcast => "broadcast",
        _ => "barrier",
    };
}
