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

    protected override void AllReduceCore(DeviceBuffer input, DeviceBuffer output, ReduceOp op, AxisGroup group, Determinism determinism)
    {
        bool floating = input.ElementType == typeof(float) || input.ElementType == typeof(Half);
        if (determinism == Determinism.RankOrdered || !floating)
        {
            // Integer sums are exact already: the reproducible option changes nothing for them.
            AllReduceCore(input, output, op, group);
            return;
        }

        ThrowIfUnsupported(input.ElementType, op);
        if (op is ReduceOp.Max or ReduceOp.Min)
        {
            // IEEE maximum/minimum are order-independent except for NaN payloads: canonicalize those.
            Meet(group, CollectiveKind.AllReduce, input, output, op, root: 0);
            CanonicalizeNaN(output);
            return;
        }

        Meet(group, CollectiveKind.AllReduce, input, output, op, root: 0, reproducible: true);
    }

    protected override void ReduceScatterCore(DeviceBuffer input, DeviceBuffer output, AxisGroup group, Determinism determinism)
    {
        bool floating = input.ElementType == typeof(float) || input.ElementType == typeof(Half);
        if (determinism == Determinism.RankOrdered || !floating)
        {
            ReduceScatterCore(input, output, group);
            return;
        }

        ThrowIfUnsupported(input.ElementType, ReduceOp.Sum);
        Meet(group, CollectiveKind.ReduceScatter, input, output, ReduceOp.Sum, root: 0, reproducible: true);
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

    private static unsafe void CanonicalizeNaN(DeviceBuffer output)
    {
        if (output.ElementType == typeof(float))
        {
            Span<float> values = CpuProvider.GetSpan<float>(output);
            for (int i = 0; i < values.Length; i++)
            {
                if (float.IsNaN(values[i]))
                {
                    values[i] = float.NaN;
                }
            }
        }
        else
        {
            Span<Half> values = CpuProvider.GetSpan<Half>(output);
            for (int i = 0; i < values.Length; i++)
            {
                if (Half.IsNaN(values[i]))
                {
                    values[i] = Half.NaN;
                }
            }
        }
    }

    private unsafe void Meet(AxisGroup group, CollectiveKind kind, DeviceBuffer input, DeviceBuffer output, ReduceOp op, int root, bool reproducible = false)
    {
        _region.ThrowIfAborted();
        long windowIndex = -1;
        double windowValue = 0;
        if (reproducible)
        {
            // Each participant checks its own input before it arrives; the rendezvous then fails every participant alike.
            void* pointer = ((CpuBuffer)input).Pointer;
            bool half = input.ElementType == typeof(Half);
            windowIndex = half ? ReproducibleKernels.FindOutsideWindow((Half*)pointer, input.Length) : ReproducibleKernels.FindOutsideWindow((float*)pointer, input.Length);
            if (windowIndex >= 0)
            {
                windowValue = half ? (double)((Half*)pointer)[windowIndex] : ((float*)pointer)[windowIndex];
            }
        }

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
            Reproducible = reproducible,
            WindowIndex = windowIndex,
            WindowValue = windowValue,
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
