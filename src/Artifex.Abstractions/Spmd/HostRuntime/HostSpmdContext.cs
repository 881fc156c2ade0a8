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
