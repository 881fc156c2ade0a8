using Artifex.HostRuntime;

namespace Artifex.Cuda.Runtime;

/// <summary>A participant of a CUDA SPMD region: each collective meets the group's rendezvous, which issues it on NCCL.</summary>
internal sealed class CudaSpmdContext : HostSpmdContext
{
    private readonly CudaProvider _provider;

    public CudaSpmdContext(HostSpmdRegion region, int deviceIndex, CudaProvider provider)
        : base(region, deviceIndex)
    {
        _provider = provider;
    }

    /// <summary>Makes the participant's GPU context current on its thread.</summary>
    public override void OnEnter() => _provider.GetState(Device).MakeCurrent();

    /// <summary>Errors of queued GPU work surface at a synchronization: make them the region's, not a later caller's.</summary>
    public override void OnExit() => _provider.GetState(Device).Synchronize();

    protected override void AllReduceCore(DeviceBuffer input, DeviceBuffer output, ReduceOp op, AxisGroup group)
    {
        ThrowIfUnsupported(input.ElementType, op);
        MeetAndCopyAlone(group, new HostCollectiveCall(HostCollectiveKind.AllReduce, input.ElementType, input.Length, output.Length, op, 0, input, output));
        if (op == ReduceOp.Mean && group.Size > 1)
        {
            // Sum, then one division by the group size on this device's stream: the CPU provider's definition of the mean.
            _provider.Divide((CudaBuffer)output, group.Size);
        }
    }

    /// <remarks>
    /// Reproducible Sum and Mean: each participant deposits its values into a PR3 state on its GPU, the unbiased states are
    /// summed exactly by NCCL in double (every partial sum is representable, so NCCL's order cannot matter), and one final
    /// rounding writes the result, scaled by 1/size for a mean. The state costs 24 bytes per element for the call.
    /// </remarks>
    protected override void AllReduceCore(DeviceBuffer input, DeviceBuffer output, ReduceOp op, AxisGroup group, Determinism determinism)
    {
        bool floating = input.ElementType == typeof(float) || input.ElementType == typeof(Half);
        if (determinism == Determinism.RankOrdered || !floating)
        {
            // Integer sums are exact already: the reproducible option changes nothing for them.
            AllReduceCore(input, output, op, group);
            return;
        }

        if (op is ReduceOp.Max or ReduceOp.Min)
        {
            throw new NotSupportedException($"Reproducible {op} (canonical NaN) is not implemented on the CUDA provider yet; use RankOrdered (NCCL's {op} is order-independent except for NaN payloads).");
        }

        ReproducibleSum(_provider, input, output, group, op == ReduceOp.Mean ? 1.0 / group.Size : 1.0, block: -1);
    }

    protected override void ReduceScatterCore(DeviceBuffer input, DeviceBuffer output, AxisGroup group, Determinism determinism)
    {
        bool floating = input.ElementType == typeof(float) || input.ElementType == typeof(Half);
        if (determinism == Determinism.RankOrdered || !floating)
        {
            ReduceScatterCore(input, output, group);
            return;
        }

        ReproducibleSum(_provider, input, output, group, 1.0, block: group.Rank);
    }

    protected override void AllGatherCore(DeviceBuffer input, DeviceBuffer output, AxisGroup group) =>
        MeetAndCopyAlone(group, new HostCollectiveCall(HostCollectiveKind.AllGather, input.ElementType, input.Length, output.Length, ReduceOp.Sum, 0, input, output));

    protected override void ReduceScatterCore(DeviceBuffer input, DeviceBuffer output, AxisGroup group)
    {
        ThrowIfUnsupported(input.ElementType, ReduceOp.Sum);
        MeetAndCopyAlone(group, new HostCollectiveCall(HostCollectiveKind.ReduceScatter, input.ElementType, input.Length, output.Length, ReduceOp.Sum, 0, input, output));
    }

    protected override void BroadcastCore(DeviceBuffer input, DeviceBuffer output, int root, AxisGroup group) =>
        MeetAndCopyAlone(group, new HostCollectiveCall(HostCollectiveKind.Broadcast, input.ElementType, input.Length, output.Length, ReduceOp.Sum, root, input, output));

    private static void ThrowIfUnsupported(Type elementType, ReduceOp op)
    {
        string? reason = NcclTypes.GetUnsupportedReason(elementType, op);
        if (reason is not null)
        {
            throw new ArgumentException(reason, nameof(elementType));
        }
    }

    private void MeetAndCopyAlone(AxisGroup group, in HostCollectiveCall call)
    {
        Meet(group, in call);
        if (group.Size == 1)
        {
            // A group of one needs no NCCL: every collective is a copy of the input (when not in place).
            CudaProvider.CopyOnDevice((CudaBuffer)call.Input!, (CudaBuffer)call.Output!, Math.Min(call.InputLength, call.OutputLength));
        }
    }
}
