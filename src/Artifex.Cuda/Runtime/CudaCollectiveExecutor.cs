using Artifex.Cuda.Native;
using Artifex.Runtime;

namespace Artifex.Cuda.Runtime;

/// <summary>
/// Runs the collectives of one axis group of a CUDA region: the last participant to arrive issues the collective of the
/// whole group inside one NCCL group, from its thread, only once everyone has arrived and agreed (so no GPU ever waits in
/// NCCL for a participant that failed or never came). A mean's division and a group of one's copy then run on each
/// participant's own thread and stream.
/// </summary>
internal sealed class CudaCollectiveExecutor : CollectiveExecutor
{
    private readonly CudaProvider _provider;
    private readonly CudaDeviceState[] _states;

    public CudaCollectiveExecutor(Rendezvous rendezvous, CudaProvider provider)
        : base(rendezvous)
    {
        _provider = provider;
        _states = [.. rendezvous.Devices.Select(provider.GetState)];
    }

    public override bool Start()
    {
        ref readonly CollectiveCall agreed = ref Rendezvous.Agreed;
        if (agreed.Kind == CollectiveKind.Barrier)
        {
            // A barrier is the meeting itself.
            return false;
        }

        if (_states.Length == 1)
        {
            // A group of one needs no NCCL: each participant copies its own input.
            return true;
        }

        CudaResourceHandle[] communicators = [];
        try
        {
            communicators = _provider.Communicators.Get(_states);
            NcclLaunch.Group(Rendezvous.Calls, communicators);
        }
        catch (Exception error) when (error is CudaException or NotSupportedException)
        {
            // A failed NCCL call leaves the communicators unusable: teardown must abort them, not finalize them.
            foreach (CudaResourceHandle communicator in communicators)
            {
                communicator.Faulted = true;
            }

            throw;
        }

        return agreed.Kind == CollectiveKind.AllReduce && agreed.Op == ReduceOp.Mean;
    }

    public override void Participate(int rank)
    {
        ref readonly CollectiveCall call = ref Rendezvous.Calls[rank];
        if (_states.Length == 1)
        {
            // Every collective of a group of one is a copy of the input (when not in place).
            CudaProvider.CopyOnDevice((CudaBuffer)call.Input!, (CudaBuffer)call.Output!, Math.Min(call.InputLength, call.OutputLength));
            return;
        }

        // Sum, then one division by the group size on this device's stream: the CPU provider's definition of the mean.
        _provider.Divide((CudaBuffer)call.Output!, _states.Length);
    }
}
