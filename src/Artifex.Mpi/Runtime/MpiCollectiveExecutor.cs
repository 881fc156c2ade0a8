using Artifex.Runtime;

namespace Artifex.Mpi.Runtime;

/// <summary>
/// Runs the collectives of this process's participants of one axis group. The last local participant to arrive runs the
/// collective for all of them: a reduction over the local inputs in rank order, then one MPI call over the processes of
/// the group (if it spans several), then the copy back to every local output. A fixed process/device layout gives a fixed
/// order of operations; MPI's own algorithm for a given process count and size is the rest of the order.
/// </summary>
internal sealed partial class MpiCollectiveExecutor : CollectiveExecutor
{
    private readonly MpiProvider _provider;
    private readonly MpiGroupLayout _layout;
    private MpiCommunicator? _communicator;
    private bool _communicatorResolved;

    public MpiCollectiveExecutor(Rendezvous rendezvous, MpiProvider provider)
        : base(rendezvous)
    {
        _provider = provider;
        _layout = new MpiGroupLayout(rendezvous.Group, provider.ProcessIndex);
    }

    private int[] LocalRanks => Rendezvous.LocalRanks;

    private ReadOnlySpan<CollectiveCall> Calls => Rendezvous.Calls;

    private string Description => Rendezvous.Description;

    private AxisGroup Group => Rendezvous.Group;
}
