namespace Artifex.Runtime;

/// <summary>A participant of a <see cref="SpmdRegion"/>: each collective meets the group's <see cref="Rendezvous"/>.</summary>
internal sealed class SpmdParticipant : SpmdContext
{
    private readonly SpmdRegion _region;
    private readonly int _threadId;
    private CommunicationLane? _lane;

    public SpmdParticipant(SpmdRegion region, int deviceIndex)
        : base(region.Mesh, deviceIndex)
    {
        _region = region;
        _threadId = Environment.CurrentManagedThreadId;
    }

    public override CancellationToken CancellationToken => _region.CancellationToken;

    /// <summary>Gets whether the calling thread is the participant's own (the context also flows into tasks it starts).</summary>
    public bool IsOnItsThread => Environment.CurrentManagedThreadId == _threadId;

    protected override bool ExecutesReproducibleSums => _region.Backend.ExecutesReproducibleSums;

    public static void Unbind() => SetCurrent(null);

    public void Bind() => SetCurrent(this);

    protected override string? GetUnsupportedReason(Type elementType) => _region.Backend.GetUnsupportedReason(elementType);

    protected override void CollectiveCore(AxisGroup group, in CollectiveCall collective)
    {
        Rendezvous rendezvous = Admit(group, collective.Kind);

        // Collectives started earlier meet the others first: a participant's collectives keep the order it issued them.
        _lane?.WaitIdle();

        // The buffers stay allocated until the collective is over, even if another thread disposes them meanwhile.
        DeviceBuffer? input = collective.Input;
        DeviceBuffer? output = ReferenceEquals(collective.Output, input) ? null : collective.Output;
        input?.AcquireUse();
        try
        {
            output?.AcquireUse();
            try
            {
                rendezvous.Run(group.Rank, in collective);
            }
            finally
            {
                output?.ReleaseUse();
            }
        }
        finally
        {
            input?.ReleaseUse();
        }
    }

    protected override CollectiveRequest StartCollectiveCore(AxisGroup group, in CollectiveCall collective)
    {
        Rendezvous rendezvous = Admit(group, collective.Kind);
        if (_lane is null)
        {
            if (_region.Pool is not { } pool)
            {
                // A region run without a worker pool has no communication threads: the collective runs now.
                CollectiveCore(group, in collective);
                return CollectiveRequest.Completed;
            }

            _lane = pool.GetLane(Device);
            _lane.Attach(this, _region.Backend);
            _region.CommunicationStarted();
        }

        return _lane.Enqueue(rendezvous, group.Rank, in collective);
    }

    /// <summary>
    /// After the body: waits for the collectives it started and releases the communication thread. With
    /// <paramref name="rethrow"/>, a failure the body never waited for fails the participant.
    /// </summary>
    public void EndCommunication(bool rethrow)
    {
        if (_lane is not { } lane)
        {
            return;
        }

        _lane = null;
        Exception? unobserved = lane.Detach();
        if (rethrow && unobserved is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(unobserved);
        }
    }

    private Rendezvous Admit(AxisGroup group, CollectiveKind kind)
    {
        // A participant is one rank: a second thread (a task the body started, a continuation after an await) issuing
        // collectives would arrive as the same rank twice.
        if (!IsOnItsThread)
        {
            throw new InvalidOperationException(
                $"The participant on {Device} issued {CollectiveCall.Name(kind)} from another thread than its body's: a participant's collectives must be issued by its own thread, one at a time, in the same order on every participant.");
        }

        _region.ThrowIfAborted();
        return _region.GetRendezvous(group);
    }
}
