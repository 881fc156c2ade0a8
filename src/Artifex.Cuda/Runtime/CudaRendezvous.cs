using Artifex.Cuda.Native;
using Artifex.HostRuntime;

namespace Artifex.Cuda.Runtime;

/// <summary>
/// Where the participants of one axis group meet: the last to arrive issues the collective of the whole group inside one
/// NCCL group, from its thread, only once everyone has arrived and agreed (so no GPU ever waits in NCCL for a participant
/// that failed or never came).
/// </summary>
internal sealed class CudaRendezvous : HostRendezvous
{
    private readonly CudaProvider _provider;
    private readonly CudaDeviceState[] _states;

    public CudaRendezvous(HostSpmdRegion region, AxisGroup group, CudaProvider provider)
        : base(region, group, [.. Enumerable.Range(0, group.Size)])
    {
        _provider = provider;
        _states = [.. Devices.Select(provider.GetState)];
    }

    protected override void Execute()
    {
        // A group of one needs no NCCL (each participant copies its own input), and a barrier is the meeting itself.
        if (Calls.Length == 1 || Calls[0].Kind == HostCollectiveKind.Barrier)
        {
            return;
        }

        CudaResourceHandle[] communicators = [];
        try
        {
            communicators = _provider.Communicators.Get(_states);
            NcclLaunch.Group(Calls, communicators);
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
    }
}
