namespace Artifex.HostRuntime;

/// <summary>A participant of a <see cref="HostSpmdRegion"/>: it meets the others at the region's rendezvous for each collective.</summary>
internal abstract class HostSpmdContext : SpmdContext
{
    private readonly Dictionary<AxisGroup, HostRendezvous> _rendezvous = new(ReferenceEqualityComparer.Instance);

    /// <summary>Initializes a participant.</summary>
    /// <param name="region">The region.</param>
    /// <param name="deviceIndex">The participant's mesh position.</param>
    protected HostSpmdContext(HostSpmdRegion region, int deviceIndex)
        : base(region.Mesh, deviceIndex)
    {
        Region = region;
    }

    /// <summary>Gets the region.</summary>
    public HostSpmdRegion Region { get; }

    /// <summary>Unbinds the calling thread's participant.</summary>
    public static void Unbind() => SetCurrent(null);

    /// <summary>Binds this participant to the calling thread.</summary>
    public void Bind() => SetCurrent(this);

    /// <summary>Runs on the participant's thread before the body (e.g. making a GPU context current).</summary>
    public virtual void OnEnter()
    {
    }

    /// <summary>Runs on the participant's thread after the body returned (e.g. waiting for queued GPU work).</summary>
    public virtual void OnExit()
    {
    }

    /// <inheritdoc/>
    protected override void BarrierCore(AxisGroup group) => Meet(group, HostCollectiveCall.Barrier);

    /// <summary>
    /// A reproducible Sum or Mean (<see cref="ReproducibleSum"/>): this participant deposits its values into a PR3 state, the
    /// unbiased states are summed exactly by the provider's double all-reduce (every partial sum is representable, so no
    /// order matters), and one final rounding writes the result, scaled by <paramref name="scale"/>.
    /// </summary>
    /// <param name="provider">The provider (its kernels and memory).</param>
    /// <param name="input">This participant's values (Single or Half).</param>
    /// <param name="output">The result.</param>
    /// <param name="group">The axis group.</param>
    /// <param name="scale">1, or 1/size for a mean (inside the one rounding).</param>
    /// <param name="block">-1 for an all-reduce; this participant's rank for a psum_scatter (its block of the sum).</param>
    protected void ReproducibleSum(DeviceProvider provider, DeviceBuffer input, DeviceBuffer output, AxisGroup group, double scale, int block)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(group);
        DeviceKernels kernels = provider.Kernels;
        long count = input.Length;
        using DeviceBuffer state = provider.Allocate<double>(Device, 3 * count);
        kernels.ReproducibleReset(state);
        kernels.ReproducibleDeposit(state, input);
        kernels.ReproducibleSetBiasCore(state, biased: false);
        Meet(group, new HostCollectiveCall(HostCollectiveKind.AllReduce, typeof(double), state.Length, state.Length, ReduceOp.Sum, 0, state, state));
        kernels.ReproducibleSetBiasCore(state, biased: true);
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

    /// <summary>Meets the group's other participants with a call.</summary>
    /// <param name="group">The axis group.</param>
    /// <param name="call">This participant's call.</param>
    protected void Meet(AxisGroup group, in HostCollectiveCall call)
    {
        Region.ThrowIfAborted();
        if (!_rendezvous.TryGetValue(group, out HostRendezvous? rendezvous))
        {
            rendezvous = Region.GetRendezvous(group);
            _rendezvous.Add(group, rendezvous);
        }

        rendezvous.Run(group.Rank, in call);
    }
}
