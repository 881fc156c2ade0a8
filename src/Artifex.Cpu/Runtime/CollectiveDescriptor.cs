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
