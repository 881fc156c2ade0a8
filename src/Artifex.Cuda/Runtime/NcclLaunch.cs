using Artifex.Cuda.Native;
using Artifex.Runtime;

namespace Artifex.Cuda.Runtime;

/// <summary>Issues one collective for every member of a group from one thread, inside an NCCL group (the single-process, multi-device pattern).</summary>
internal static class NcclLaunch
{
    /// <summary>Queues the collective on every member's stream; returns once NCCL has enqueued it (no host wait).</summary>
    public static void Group(ReadOnlySpan<CollectiveCall> calls, CudaResourceHandle[] communicators)
    {
        CollectiveCall first = calls[0];

        // Gathers and broadcasts only move bytes, so any element type goes as bytes; reductions need NCCL's own type.
        bool bytes = first.Kind is CollectiveKind.AllGather or CollectiveKind.Broadcast;
        NcclDataType type = NcclDataType.UInt8;
        if (!bytes && !NcclTypes.TryGetDataType(first.ElementType!, out type))
        {
            throw new NotSupportedException($"NCCL has no type for {first.ElementType!.Name}.");
        }

        CudaCheck.Nccl(Nccl.ncclGroupStart(), "ncclGroupStart");
        NcclResult result = NcclResult.Success;
        string api = "ncclGroupEnd";
        int failedRank = -1;
        for (int r = 0; r < calls.Length && result == NcclResult.Success; r++)
        {
            (result, api) = Issue(calls[r], type, bytes ? calls[r].Input!.ElementSize : 1, communicators[r].Value);
            failedRank = result == NcclResult.Success ? -1 : r;
        }

        // The group must be closed even when a call inside it failed, or NCCL's group state leaks into the next call.
        NcclResult ended = Nccl.ncclGroupEnd();
        if (result != NcclResult.Success)
        {
            CudaCheck.Nccl(result, api, communicators[failedRank].Value);
        }

        CudaCheck.Nccl(ended, "ncclGroupEnd", communicators[0].Value);
    }

    private static (NcclResult Result, string Api) Issue(in CollectiveCall call, NcclDataType type, int unit, nint communicator)
    {
        var from = (CudaBuffer)call.Input!;
        ulong input = from.Pointer;
        ulong output = ((CudaBuffer)call.Output!).Pointer;
        nint stream = from.State.StreamValue;
        return call.Kind switch
        {
            CollectiveKind.AllReduce => (Nccl.ncclAllReduce(input, output, (nuint)call.InputLength, type, NcclTypes.ToNccl(call.Op), communicator, stream), "ncclAllReduce"),
            CollectiveKind.AllGather => (Nccl.ncclAllGather(input, output, (nuint)(call.InputLength * unit), type, communicator, stream), "ncclAllGather"),
            CollectiveKind.ReduceScatter => (Nccl.ncclReduceScatter(input, output, (nuint)call.OutputLength, type, NcclRedOp.Sum, communicator, stream), "ncclReduceScatter"),
            _ => (Nccl.ncclBroadcast(input, output, (nuint)(call.InputLength * unit), type, call.Root, communicator, stream), "ncclBroadcast"),
        };
    }
}
