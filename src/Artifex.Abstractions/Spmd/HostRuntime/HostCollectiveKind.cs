namespace Artifex.HostRuntime;

/// <summary>The collectives a host rendezvous runs.</summary>
internal enum HostCollectiveKind
{
    AllReduce,
    AllGather,
    ReduceScatter,
    Broadcast,
    Barrier,
}
