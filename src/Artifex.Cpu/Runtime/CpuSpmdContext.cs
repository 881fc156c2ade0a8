using System.Runtime.CompilerServices;
using Artifex.Cpu.Kernels;

namespace Artifex.Cpu.Runtime;

/// <summary>A participant of a CPU SPMD region: collectives meet at the region's rendezvous for the axis group.</summary>
internal sealed class CpuSpmdContext : SpmdContext
{
    private readonly CpuSpmdRegion _region;
    private readonly Dictionary<AxisGroup, GroupRendezvous> _rendezvous = new(ReferenceEqualityComparer.Instance);

    public CpuSpmdContext(CpuSpmdRegion region, int deviceIndex)
        : base(region.Mesh, deviceIndex)
    {
        _region = region;
    }

    public static void Unbind() => SetCurrent(null);

    public void Bind() => SetCurrent(this);

    protected override void AllReduceCore(DeviceBuffer input, DeviceBuffer output, ReduceOp op, AxisGroup group)
    {
        ThrowIfUnsupported(input.ElementType, op);
        Meet(group, CollectiveKind.AllReduce, input, output, op, root: 0);
    }

    protected override void AllGatherCore(DeviceBuffer input, DeviceBuffer output, AxisGroup group) =>
        Meet(group, CollectiveKind.AllGather, input, output, ReduceOp.Sum, root: 0);

    protected override void ReduceScatterCore(DeviceBuffer input, DeviceBuffer output, AxisGroup group)
    {
        ThrowIfUnsupported(input.ElementType, ReduceOp.Sum);
        Meet(group, CollectiveKind.ReduceScatter, input, output, ReduceOp.Sum, root: 0);
    }

    protected override void BroadcastCore(DeviceBuffer input, DeviceBuffer output, int root, AxisGroup group) =>
        Meet(group, CollectiveKind.Broadcast, input, output, ReduceOp.Sum, root);

    protected override void BarrierCore(AxisGroup group)
    {
        var descriptor = new CollectiveDescriptor { Kind = CollectiveKind.Barrier };
        Rendezvous(group).Run(group.Rank, in descriptor);
    }

    private static void ThrowIfUnsupported(Type elementType, ReduceOp op)
    {
        string? reason = CollectiveDispatch.GetUnsupportedReason(elementType, op);
        if (reason is not null)
        {
            throw new ArgumentException(reason, nameof(elementType));
        }
    }

    private unsafe void Meet(AxisGroup group, CollectiveKind kind, DeviceBuffer input, DeviceBuffer output, ReduceOp op, int root)
    {
        _region.ThrowIfAborted();
        var descriptor = new CollectiveDescriptor
        {
            Kind = kind,
            ElementType = input.ElementType,
            ElementSize = input.ElementSize,
            Op = op,
            InputLength = input.Length,
            OutputLength = output.Length,
            Root = root,
            Input = (nint)((CpuBuffer)input).Pointer,
            Output = (nint)((CpuBuffer)output).Pointer,
        };
        Rendezvous(group).Run(group.Rank, in descriptor);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private GroupRendezvous Rendezvous(AxisGroup group)
    {
        if (!_rendezvous.TryGetValue(group, out GroupRendezvous? rendezvous))
        {
            rendezvous = _region.GetRendezvous(group);
            _rendezvous.Add(group, rendezvous);
        }

        return rendezvous;
    }
}
