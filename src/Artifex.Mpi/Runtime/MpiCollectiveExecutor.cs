using Artifex.Cpu.Runtime;
using Artifex.Runtime;

namespace Artifex.Mpi.Runtime;

/// <summary>
/// Runs the collectives of this process's participants of one axis group, composed from the CPU provider's
/// <see cref="CpuCollectiveExecutor"/>: a group inside this process runs exactly the CPU provider's fused pass; an
/// all-reduce across processes runs that pass over the local inputs in rank order, then one MPI call over the group's
/// processes, then the copy back to every local output. A fixed process/device layout gives a fixed order of operations;
/// MPI's own algorithm for a given process count and size is the rest of the order.
/// </summary>
internal sealed partial class MpiCollectiveExecutor : CollectiveExecutor
{
    private readonly MpiProvider _provider;
    private readonly MpiGroupLayout _layout;
    private readonly CpuCollectiveExecutor _local;
    private MpiCommunicator? _communicator;
    private bool _communicatorResolved;
    private PaddedCounter _finished;
    private PaddedCounter _copied;
    private long _finishTarget;
    private long _copyTarget;
    private DeviceBuffer? _roundAccumulator;
    private bool _crossProcessRound;
    private CollectiveCall _round;
    private MpiCommunicator? _roundCommunicator;
    private Exception? _finishFailure;

    public MpiCollectiveExecutor(Rendezvous rendezvous, MpiProvider provider)
        : base(rendezvous)
    {
        _provider = provider;
        _layout = new MpiGroupLayout(rendezvous.Devices);
        _local = new CpuCollectiveExecutor(rendezvous);
    }

    private int[] LocalRanks => Rendezvous.LocalRanks;

    private ReadOnlySpan<CollectiveCall> Calls => Rendezvous.Calls;

    private string Description => Rendezvous.Description;

    private AxisGroup Group => Rendezvous.Group;
}
