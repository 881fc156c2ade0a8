namespace Artifex.Cuda.Runtime;

/// <summary>One participant's side of a collective: what it asks for and where its buffers live.</summary>
internal readonly record struct CudaCollectiveCall(
    CudaCollectiveKind Kind,
    Type? ElementType,
    long InputLength,
    long OutputLength,
    ReduceOp Op,
    int Root,
    CudaBuffer? Input,
    CudaBuffer? Output)
{
    public static string Name(CudaCollectiveKind kind) => kind switch
    {
        CudaCollectiveKind.AllReduce => "all_reduce",
        CudaCollectiveKind.AllGather => "all_gather",
        CudaCollectiveKind.ReduceScatter => "psum_scatter",
        CudaCollectiveKind.Broadcast => "broadcast",
        _ => "barrier",
    };
}
