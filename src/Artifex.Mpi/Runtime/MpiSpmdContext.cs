namespace Artifex.Mpi.Runtime;

/// <summary>A local participant of an MPI SPMD region: collectives meet this process's other participants, then the group's processes.</summary>
internal sealed class MpiSpmdContext : SpmdContext
{
    private readonly MpiSpmdRegion _region;
    private readonly Dictionary<AxisGroup, MpiRendezvous> _rendezvous = new(ReferenceEqualityComparer.Instance);

    public MpiSpmdContext(MpiSpmdRegion region, int deviceIndex)
        : base(region.Mesh, deviceIndex)
    {
        _region = region;
    }

    public static void Unbind() => SetCurrent(null);

    public void Bind() => SetCurrent(this);

    protected override void AllReduceCore(DeviceBuffer input, DeviceBuffer output, ReduceOp op, AxisGroup group)
    {
        MpiProvider.ThrowIfUnsupported(input.ElementType, op);
        Meet(group, new MpiCollectiveCall(MpiCollectiveKind.AllReduce, input.ElementType, input.Length, output.Length, op, 0, input, output));
    }

    protected override void AllGatherCore(DeviceBuffer input, DeviceBuffer output, AxisGroup group)
    {
        Meet(group, new MpiCollectiveCall(MpiCollectiveKind.AllGather, input.ElementType, input.Length, output.Length, ReduceOp.Sum, 0, input, output));
    }

    protected override void ReduceScatterCore(DeviceBuffer input, DeviceBuffer output, AxisGroup group)
    {
        MpiProvider.ThrowIfUnsupported(input.ElementType, ReduceOp.Sum);
        Meet(group, new MpiCollectiveCall(MpiCollectiveKind.ReduceScatter, input.ElementType, input.Length, output.Length, ReduceOp.Sum, 0, input, output));
    }

    protected override void BroadcastCore(DeviceBuffer input, DeviceBuffer output, int root, AxisGroup group)
    {
        Meet(group, new MpiCollectiveCall(MpiCollectiveKind.Broadcast, input.ElementType, input.Length, output.Length, ReduceOp.Sum, root, input, output));
    }

    protected override void BarrierCore(AxisGroup group) =>
        Meet(group, new MpiCollectiveCall(MpiCollectiveKind.Barrier, null, 0, 0, ReduceOp.Sum, 0, null, null));

    private void Meet(AxisGroup group, in MpiCollectiveCall call)
    {
        _region.ThrowIfAborted();
        if (!_rendezvous.TryGetValue(group, out MpiRendezvous? rendezvous))
        {
            rendezvous = _region.GetRendezvous(group);
            _rendezvous.Add(group, rendezvous);
        }

        rendezvous.Run(group.Rank, in call);
    }
}
