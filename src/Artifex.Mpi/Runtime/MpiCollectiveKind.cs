namespace Artifex.Mpi.Runtime;

/// <summary>The collectives an MPI rendezvous runs.</summary>
internal enum MpiCollectiveKind
{
    AllReduce,
    AllGather,
    ReduceScatter,
    Broadcast,
    Barrier,
}
