using Artifex.HostRuntime;

namespace Artifex.Mpi.Runtime;

/// <summary>
/// Where this process's participants of one axis group meet. The last local participant to arrive runs the collective for
/// all of them: a reduction over the local inputs in rank order, then one MPI call over the processes of the group (if it
/// spans several), then the copy back to every local output. A fixed process/device layout gives a fixed order of
/// operations; MPI's own algorithm for a given process count and size is the rest of the order.
/// </summary>
internal sealed partial class MpiRendezvous : HostRendezvous
{
    private readonly MpiProvider _provider;
    private readonly MpiGroupLayout _layout;
    private MpiCommunicator? _communicator;
    private bool _communicatorResolved;

    public MpiRendezvous(HostSpmdRegion region, AxisGroup group, MpiProvider provider, MpiGroupLayout layout)
        : base(region, group, layout.LocalRanks)
    {
        _provider = provider;
        _layout = layout;
    }
}
