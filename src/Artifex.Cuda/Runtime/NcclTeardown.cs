using Artifex.Cuda.Native;

namespace Artifex.Cuda.Runtime;

/// <summary>
/// Ends a set of communicators that one thread drives: NCCL's finalize (or abort) is collective among the ranks, so one
/// thread must issue it for all of them inside one group; destruction is then local.
/// </summary>
internal static class NcclTeardown
{
    public static void End(IReadOnlyList<CudaResourceHandle> communicators)
    {
        bool faulted = communicators.Any(IsFaulted);
        _ = Nccl.ncclGroupStart();
        foreach (CudaResourceHandle communicator in communicators)
        {
            if (!communicator.IsClosed)
            {
                _ = faulted ? Nccl.ncclCommAbort(communicator.Value) : Nccl.ncclCommFinalize(communicator.Value);
                communicator.Finalized = !faulted;
            }
        }

        _ = Nccl.ncclGroupEnd();
        foreach (CudaResourceHandle communicator in communicators)
        {
            communicator.Dispose();
        }
    }

    private static unsafe bool IsFaulted(CudaResourceHandle communicator)
    {
        if (communicator.Faulted || communicator.IsClosed)
        {
            return communicator.Faulted;
        }

        NcclResult error;
        return Nccl.ncclCommGetAsyncError(communicator.Value, &error) != NcclResult.Success || error != NcclResult.Success;
    }
}
