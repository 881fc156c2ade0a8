using Artifex.Runtime;

namespace Artifex.Cuda.Runtime;

/// <summary>The CUDA provider's part of the SPMD runtime: NCCL groups, the GPU context on each participant's thread, and a stream sync at its end.</summary>
internal sealed class CudaSpmdBackend(CudaProvider provider) : SpmdBackend(provider)
{
    public override CollectiveExecutor CreateExecutor(Rendezvous rendezvous) => new CudaCollectiveExecutor(rendezvous, provider);

    public override string? GetUnsupportedReason(Type elementType) => NcclTypes.GetUnsupportedReason(elementType);

    /// <summary>Makes the participant's GPU context current on its thread.</summary>
    public override void OnEnter(SpmdContext participant) => provider.GetState(participant.Device).MakeCurrent();

    /// <summary>The communication thread issues NCCL calls for the participant: the same context must be current there.</summary>
    public override void OnCommunicationThread(SpmdContext participant) => provider.GetState(participant.Device).MakeCurrent();

    /// <summary>Errors of queued GPU work surface at a synchronization: make them the region's, not a later caller's.</summary>
    public override void OnExit(SpmdContext participant) => provider.GetState(participant.Device).Synchronize();
}
