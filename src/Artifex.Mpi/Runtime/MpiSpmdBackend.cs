using Artifex.Runtime;

namespace Artifex.Mpi.Runtime;

/// <summary>The MPI provider's part of the SPMD runtime: the local step plus one MPI call, and ending the job when a participant fails.</summary>
internal sealed class MpiSpmdBackend(MpiProvider provider) : SpmdBackend(provider)
{
    /// <summary>The node's cores shared by the job's processes on it: with P processes on a node, each keeps 1/P of them busy.</summary>
    public override int Cores { get; } = Math.Max(1, Environment.ProcessorCount / Math.Max(1, MpiRuntime.LocalSize));

    /// <summary>Threads are pinned as the CPU provider's when this is the node's only process; processes sharing a node leave placement to the OS.</summary>
    public override bool PinsThreads { get; } = MpiRuntime.LocalSize == 1;

    public override CollectiveExecutor CreateExecutor(Rendezvous rendezvous) => new MpiCollectiveExecutor(rendezvous, provider);

    public override string? GetUnsupportedReason(Type elementType)
    {
        bool supported = elementType == typeof(float) || elementType == typeof(double) || elementType == typeof(Half)
            || elementType == typeof(int) || elementType == typeof(long);
        return supported ? null : $"The MPI provider's collectives reduce Single, Double, Half, Int32 and Int64 elements, not {elementType.Name}.";
    }

    /// <summary>In a multi-process job, ends the whole job at once from the failing participant's thread, printing the original exception.</summary>
    public override void OnParticipantFailed(Exception exception, Device device)
    {
        if (provider.ProcessCount > 1)
        {
            MpiRuntime.Abort(MpiProvider.ExceptionExitCode, $"the participant on {device} failed in an SPMD region of process {provider.ProcessIndex}: {exception}");
        }
    }
}
