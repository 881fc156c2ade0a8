namespace Artifex.Cuda.Runtime;

/// <summary>The collectives a CUDA rendezvous issues.</summary>
internal enum CudaCollectiveKind
{
    AllReduce,
    AllGather,
    ReduceScatter,
    Broadcast,
    Barrier,
}
