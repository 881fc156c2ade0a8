using Artifex.Cpu;
using Artifex.HostRuntime;

namespace Artifex.Mpi.Runtime;

/// <summary>A local participant of an MPI SPMD region: collectives meet this process's other participants, then the group's processes.</summary>
internal sealed class MpiSpmdContext : HostSpmdContext
{
    private readonly MpiProvider _provider;

    public MpiSpmdContext(HostSpmdRegion region, int deviceIndex, MpiProvider provider)
        : base(region, deviceIndex)
    {
        _provider = provider;
    }

    protected override void AllReduceCore(DeviceBuffer input, DeviceBuffer output, ReduceOp op, AxisGroup group)
    {
        MpiProvider.ThrowIfUnsupported(input.ElementType, op);
        Meet(group, new HostCollectiveCall(HostCollectiveKind.AllReduce, input.ElementType, input.Length, output.Length, op, 0, input, output));
    }

    /// <remarks>
    /// Reproducible Sum and Mean: each participant deposits its values into a PR3 state, the unbiased states are summed
    /// exactly (locally, then by MPI in double: every partial sum is representable, so neither order matters), and one
    /// final rounding writes the result, scaled by 1/size for a mean. The bits depend only on the multiset of values, not on
    /// how many processes or devices hold them. Max and Min give a canonical NaN.
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
            AllReduceCore(input, output, op, group);
            CanonicalizeNaN(output);
            return;
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

    protected override void AllGatherCore(DeviceBuffer input, DeviceBuffer output, AxisGroup group)
    {
        Meet(group, new HostCollectiveCall(HostCollectiveKind.AllGather, input.ElementType, input.Length, output.Length, ReduceOp.Sum, 0, input, output));
    }

    protected override void ReduceScatterCore(DeviceBuffer input, DeviceBuffer output, AxisGroup group)
    {
        MpiProvider.ThrowIfUnsupported(input.ElementType, ReduceOp.Sum);
        Meet(group, new HostCollectiveCall(HostCollectiveKind.ReduceScatter, input.ElementType, input.Length, output.Length, ReduceOp.Sum, 0, input, output));
    }

    protected override void BroadcastCore(DeviceBuffer input, DeviceBuffer output, int root, AxisGroup group)
    {
        Meet(group, new HostCollectiveCall(HostCollectiveKind.Broadcast, input.ElementType, input.Length, output.Length, ReduceOp.Sum, root, input, output));
    }

    private static void CanonicalizeNaN(DeviceBuffer output)
    {
        if (output.ElementType == typeof(float))
        {
            Span<float> values = CpuProvider.GetSpan<float>(output);
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = float.IsNaN(values[i]) ? float.NaN : values[i];
            }

            return;
        }

        Span<Half> halves = CpuProvider.GetSpan<Half>(output);
        for (int i = 0; i < halves.Length; i++)
        {
            halves[i] = Half.IsNaN(halves[i]) ? Half.NaN : halves[i];
        }
    }

}
