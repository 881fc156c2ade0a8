namespace Artifex.Runtime;

/// <summary>
/// What a provider plugs into the one SPMD runtime: how an agreed collective executes, which element types it reduces,
/// and what a participant's thread needs before and after the body. Region admission, participant threads, the
/// rendezvous, agreement, timeouts, aborts and every message are the runtime's.
/// </summary>
public abstract class SpmdBackend
{
    /// <summary>Initializes a backend for a provider.</summary>
    /// <param name="provider">The provider whose devices, memory and kernels the regions use.</param>
    protected SpmdBackend(DeviceProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        Provider = provider;
    }

    /// <summary>Gets the provider.</summary>
    public DeviceProvider Provider { get; }

    /// <summary>Gets the rendezvous points kept from one region to the next over the same mesh.</summary>
    internal RendezvousCache RendezvousCache { get; } = new();

    /// <summary>
    /// Gets whether the executor runs reproducible sums itself (<see cref="CollectiveCall.Reproducible"/> calls). When
    /// false, the runtime deposits each participant's values into a reproducible-sum state with the provider's kernels and
    /// sums the states with an exact Double all-reduce.
    /// </summary>
    public virtual bool ExecutesReproducibleSums => false;

    /// <summary>
    /// Gets how many cores this process's participants may keep busy: all of the machine's by default; fewer when other
    /// processes of the same job share the node. Waits stop spinning, and executors put fewer threads to work, when the
    /// participants outnumber them.
    /// </summary>
    public virtual int Cores => Environment.ProcessorCount;

    /// <summary>
    /// Gets whether the provider's worker pool pins device k's thread to core k mod P (<see cref="ThreadAffinity"/>), so
    /// executors can tell which participants share a core.
    /// </summary>
    public virtual bool PinsThreads => false;

    /// <summary>Creates the executor of one axis group's rendezvous.</summary>
    /// <param name="rendezvous">The rendezvous.</param>
    /// <returns>The executor.</returns>
    public abstract CollectiveExecutor CreateExecutor(Rendezvous rendezvous);

    /// <summary>Gets why the collectives cannot reduce <paramref name="elementType"/>, or <see langword="null"/> when they can.</summary>
    /// <param name="elementType">The element type.</param>
    /// <returns>The message, or <see langword="null"/>.</returns>
    public abstract string? GetUnsupportedReason(Type elementType);

    /// <summary>Runs on a participant's thread before its body (e.g. making a GPU context current).</summary>
    /// <param name="participant">The participant.</param>
    public virtual void OnEnter(SpmdContext participant)
    {
    }

    /// <summary>
    /// Runs on a device's communication thread before it runs collectives that <paramref name="participant"/> started
    /// without waiting (<see cref="CollectiveRequest"/>), e.g. making the device's GPU context current there too.
    /// </summary>
    /// <param name="participant">The participant whose collectives follow.</param>
    public virtual void OnCommunicationThread(SpmdContext participant)
    {
    }

    /// <summary>Runs on a participant's thread after its body returned (e.g. waiting for queued GPU work).</summary>
    /// <param name="participant">The participant.</param>
    public virtual void OnExit(SpmdContext participant)
    {
    }

    /// <summary>
    /// Runs on a failing participant's thread before the region is aborted (an MPI provider ends the job there: its other
    /// processes may be waiting in MPI, out of the region's reach).
    /// </summary>
    /// <param name="exception">The participant's exception.</param>
    /// <param name="device">Its device.</param>
    public virtual void OnParticipantFailed(Exception exception, Device device)
    {
    }
}
