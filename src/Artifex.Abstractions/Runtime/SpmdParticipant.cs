namespace Artifex.Runtime;

/// <summary>A participant of a <see cref="SpmdRegion"/>: each collective meets the group's <see cref="Rendezvous"/>.</summary>
internal sealed class SpmdParticipant : SpmdContext
{
    private readonly SpmdRegion _region;
    private readonly Dictionary<AxisGroup, Rendezvous> _rendezvous = new(ReferenceEqualityComparer.Instance);

    public SpmdParticipant(SpmdRegion region, int deviceIndex)
        : base(region.Mesh, deviceIndex)
    {
        _region = region;
    }

    protected override bool ExecutesReproducibleSums => _region.Backend.ExecutesReproducibleSums;

    public static void Unbind() => SetCurrent(null);

    public void Bind() => SetCurrent(this);

    protected override string? GetUnsupportedReason(Type elementType) => _region.Backend.GetUnsupportedReason(elementType);

    protected override void CollectiveCore(AxisGroup group, in CollectiveCall collective)
    {
        _region.ThrowIfAborted();
        if (!_rendezvous.TryGetValue(group, out Rendezvous? rendezvous))
        {
            rendezvous = _region.GetRendezvous(group);
            _rendezvous.Add(group, rendezvous);
        }

        rendezvous.Run(group.Rank, in collective);
    }
}
