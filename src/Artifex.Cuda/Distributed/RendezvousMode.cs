namespace Artifex.Cuda.Distributed;

/// <summary>How the processes of a job agree on NCCL's unique id.</summary>
public enum RendezvousMode
{
    /// <summary>One process: there is nobody to agree with, so the id is made locally.</summary>
    SingleProcess,

    /// <summary>
    /// <c>NCCL_COMM_ID</c> is set: every rank derives the same id from that address and NCCL's own bootstrap listens on it
    /// at rank 0, so no store is needed.
    /// </summary>
    NcclCommId,

    /// <summary>
    /// <c>MASTER_ADDR</c> and <c>MASTER_PORT</c> are set: rank 0 serves a <see cref="TcpStore"/> there and publishes the id
    /// the other ranks read.
    /// </summary>
    TcpStore,
}
