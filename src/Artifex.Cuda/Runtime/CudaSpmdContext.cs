namespace Artifex.Cuda.Runtime;

/// <summary>A participant of a CUDA SPMD region: each collective meets the group's rendezvous, which issues it on NCCL.</summary>
internal sealed class CudaSpmdContext : SpmdContext
{
    private readonly CudaSpmdRegion _region;
    private readonly Dictionary<AxisGroup, CudaRendezvous> _rendezvous = new(ReferenceEqualityComparer.Instance);

    public CudaSpmdContext(CudaSpmdRegion region, int deviceIndex)
        : base(region.Mesh, deviceIndex)
    {
        _region = region;
    }

    public static void Unbind() => SetCurrent(null);

    public void Bind() => SetCurrent(this);

    protected override void AllReduceCore(DeviceBuffer input, DeviceBuffer output, ReduceOp op, AxisGroup group)
    {
        ThrowIfUnsupported(input.ElementType, op);
        Meet(group, new CudaCollectiveCall(CudaCollectiveKind.AllReduce, input.ElementType, input.Length, output.Length, op, 0, (CudaBuffer)input, (CudaBuffer)output));
        if (op == ReduceOp.Mean && group.Size > 1)
        {
            // Sum, then one division by the group size on this device's stream: the CPU provider's definition of the mean.
            _region.Provider.Divide((CudaBuffer)output, group.Size);
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

        ReproducibleSum(input, output, group, op == ReduceOp.Mean ? 1.0 / group.Size : 1.0, block: -1);
    }

    protected override void ReduceScatterCore(DeviceBuffer input, DeviceBuffer output, AxisGroup group, Determinism determinism)
    {
        bool floating = input.ElementType == typeof(float) || input.ElementType == typeof(Half);
        if (determinism == Determinism.RankOrdered || !floating)
        {
            ReduceScatterCore(input, output, group);
            return;
        }

        ReproducibleSum(input, output, group, 1.0, block: group.Rank);
    }

    protected override void AllGatherCore(DeviceBuffer input, DeviceBuffer output, AxisGroup group) =>
        Meet(group, new CudaCollectiveCall(CudaCollectiveKind.AllGather, input.ElementType, input.Length, output.Length, ReduceOp.Sum, 0, (CudaBuffer)input, (CudaBuffer)output));

    protected override void ReduceScatterCore(DeviceBuffer input, DeviceBuffer output, AxisGroup group)
    {
        ThrowIfUnsupported(input.ElementType, ReduceOp.Sum);
        Meet(group, new CudaCollectiveCall(CudaCollectiveKind.ReduceScatter, input.ElementType, input.Length, output.Length, ReduceOp.Sum, 0, (CudaBuffer)input, (CudaBuffer)output));
    }

    protected override void BroadcastCore(DeviceBuffer input, DeviceBuffer output, int root, AxisGroup group) =>
        Meet(group, new CudaCollectiveCall(CudaCollectiveKind.Broadcast, input.ElementType, input.Length, output.Length, ReduceOp.Sum, root, (CudaBuffer)input, (CudaBuffer)output));

    protected override void BarrierCore(AxisGroup group) =>
        Meet(group, new CudaCollectiveCall(CudaCollectiveKind.Barrier, null, 0, 0, ReduceOp.Sum, 0, null, null));

    private void ReproducibleSum(DeviceBuffer input, DeviceBuffer output, AxisGroup group, double scale, int block)
    {
        CudaProvider provider = _region.Provider;
        var kernels = (CudaKernels)provider.Kernels;
        long count = input.Length;
        using DeviceBuffer state = provider.Allocate<double>(Device, 3 * count);
        kernels.ReproducibleReset(state);
        kernels.ReproducibleDeposit(state, input);
        kernels.SetBias(state, biased: false);
        var exact = (CudaBuffer)state;
        Meet(group, new CudaCollectiveCall(CudaCollectiveKind.AllReduce, typeof(double), state.Length, state.Length, ReduceOp.Sum, 0, exact, exact));
        kernels.SetBias(state, biased: true);
        if (block < 0)
        {
            kernels.ReproducibleFinalize(state, output, scale);
            return;
        }

        // The state is level-major, so one rank's block is finalized through a full-length result.
        using DeviceBuffer full = output.ElementType == typeof(Half) ? provider.Allocate<Half>(Device, count) : provider.Allocate<float>(Device, count);
        kernels.ReproducibleFinalize(state, full, scale);
        provider.Copy(full, block * output.Length, output, 0, output.Length);
    }

    private static void ThrowIfUnsupported(Type elementType, ReduceOp op)
    {
        string? reason = NcclTypes.GetUnsupportedReason(elementType, op);
        if (reason is not null)
        {
            throw new ArgumentException(reason, nameof(elementType));
        }
    }

    private void Meet(AxisGroup group, in CudaCollectiveCall call)
    {
        _region.ThrowIfAborted();
        if (!_rendezvous.TryGetValue(group, out CudaRendezvous? rendezvous))
        {
            rendezvous = _region.GetRendezvous(group);
            _rendezvous.Add(group, rendezvous);
        }

        rendezvous.Run(group.Rank, in call);
        if (group.Size == 1 && call.Kind != CudaCollectiveKind.Barrier)
        {
            // A group of one needs no NCCL: every collective is a copy of the input (when not in place).
            CudaProvider.CopyOnDevice(call.Input!, call.Output!, Math.Min(call.InputLength, call.OutputLength));
        }
    }
}
