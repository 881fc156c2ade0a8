namespace Artifex.Mpi.Runtime;

/// <summary>One local participant's side of a collective.</summary>
internal readonly record struct MpiCollectiveCall(
    MpiCollectiveKind Kind,
    Type? ElementType,
    long InputLength,
    long OutputLength,
    ReduceOp Op,
    int Root,
    DeviceBuffer? Input,
    DeviceBuffer? Output)
{
    public static string Name(MpiCollectiveKind kind) => kind switch
    {
        MpiCollectiveKind.AllReduce => "all_reduce",
        MpiCollectiveKind.AllGather => "all_gather",
        MpiCollectiveKind.ReduceScatter => "psum_scatter",
        MpiCollectiveKind.Broadcast => "broadcast",
        _ => "barrier",
    };
}
