using System.Runtime.ExceptionServices;

namespace Artifex.Runtime;

/// <summary>
/// One run of an SPMD body over a mesh, on this process's devices of it: its participants, its rendezvous points and
/// its failure state. A provider creates one per <see cref="DeviceProvider.RunSpmd"/> call and runs it on its
/// <see cref="SpmdWorkerPool"/>.
/// </summary>
public sealed class SpmdRegion : ISpmdWork
{
    private readonly Action<SpmdContext> _body;
    private readonly Dictionary<string, Rendezvous?[]> _rendezvous;
    private readonly Lock _rendezvousLock = new();
    private readonly WaitSignal _completionSignal = new();
    private int _remaining;
    private Exception? _failure;
    private Device? _failedDevice;
    private int _communicating;

    /// <summary>Initializes a region.</summary>
    /// <param name="mesh">The mesh; its devices must belong to the backend's provider.</param>
    /// <param name="body">The per-device body.</param>
    /// <param name="backend">The provider's part of the runtime.</param>
    /// <param name="cancellationToken">Aborts the region when canceled (see <see cref="DeviceProvider.RunSpmd"/>).</param>
    public SpmdRegion(Mesh mesh, Action<SpmdContext> body, SpmdBackend backend, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(backend);
        Mesh = mesh;
        _body = body;
        Backend = backend;
        Timeout = backend.Provider.CollectiveTimeout;
        LocalDeviceIndices = [.. Enumerable.Range(0, mesh.Size).Where(k => IsLocal(mesh.Devices[k]))];
        _remaining = LocalDeviceIndices.Length;
        Oversubscribed = LocalDeviceIndices.Length > backend.Cores;
        CancellationToken = cancellationToken;

        // A training loop runs a region per step over one mesh: the last one's rendezvous points serve this one, so a step's
        // collectives allocate nothing on the device threads.
        _rendezvous = backend.RendezvousCache.Rent(mesh) ?? new Dictionary<string, Rendezvous?[]>(StringComparer.Ordinal);
        foreach (Rendezvous?[] groups in _rendezvous.Values)
        {
            foreach (Rendezvous? rendezvous in groups)
            {
                rendezvous?.Rebind(this);
            }
        }
    }

    /// <summary>Gets the token that cancels the region; participants see it as <see cref="SpmdContext.CancellationToken"/>.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Gets the mesh.</summary>
    public Mesh Mesh { get; }

    /// <summary>Gets the provider's part of the runtime.</summary>
    public SpmdBackend Backend { get; }

    /// <summary>Gets how long a participant waits in a collective for the others.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Gets the mesh positions whose participants run in this process, ascending.</summary>
    public int[] LocalDeviceIndices { get; }

    /// <summary>
    /// Gets the signal that collective waiters block on. Separate from the completion signal, so that a collective never
    /// wakes the thread that waits for the whole region.
    /// </summary>
    public WaitSignal Signal { get; } = new();

    /// <summary>Gets a value indicating whether there are more participants than cores, so waits must give up their core quickly.</summary>
    public bool Oversubscribed { get; }

    /// <summary>
    /// Gets how collective waiters spin, yield and block. Once participants start collectives on their communication
    /// threads, those threads share the cores with the participants' computation: a waiter that spun would take the core
    /// from the computation the overlap is for, so waits stop spinning when participants and their communication threads
    /// together outnumber the cores.
    /// </summary>
    public WaitPolicy WaitPolicy => WaitPolicy.ForCollective(
        Oversubscribed || (Volatile.Read(ref _communicating) != 0 && 2 * LocalDeviceIndices.Length > Backend.Cores));

    /// <summary>Notes that a participant started collectives on its communication thread (see <see cref="WaitPolicy"/>).</summary>
    internal void CommunicationStarted() => Volatile.Write(ref _communicating, 1);

    /// <summary>Gets the pool running the region, whose communication threads run collectives started without waiting.</summary>
    internal SpmdWorkerPool? Pool { get; set; }

    /// <summary>Gets the first failure, or <see langword="null"/>.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>Gets whether a participant failed.</summary>
    public bool IsAborted => Volatile.Read(ref _failure) is not null;

    internal string AbortedMessage => Volatile.Read(ref _failedDevice) is { } device
        ? $"The SPMD region over {Mesh} was aborted because the participant on {device} failed: {Failure?.Message}"
        : Failure?.Message ?? $"The SPMD region over {Mesh} was aborted.";

    /// <summary>Runs the body for one participant on the calling (device) thread; never throws.</summary>
    /// <param name="index">The participant's mesh position.</param>
    public void Run(int index)
    {
        SpmdParticipant? participant = null;
        try
        {
            participant = new SpmdParticipant(this, index);
            Backend.OnEnter(participant);
            participant.Bind();
            _body(participant);
            participant.EndCommunication(rethrow: true);
            Backend.OnExit(participant);
        }
        catch (OperationCanceledException) when (IsAborted)
        {
            // Released because another participant failed first; that failure is what the region reports.
        }
        catch (Exception error)
        {
            Backend.OnParticipantFailed(error, Mesh.Devices[index]);
            Abort(error, Mesh.Devices[index]);
        }
        finally
        {
            // Started collectives may still use the body's buffers: they finish (or fail with the abort) first.
            participant?.EndCommunication(rethrow: false);
            SpmdParticipant.Unbind();
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                _completionSignal.Notify();
            }
        }
    }

    /// <summary>Records the first failure and releases every waiting participant.</summary>
    /// <param name="error">The failure.</param>
    /// <param name="device">The device whose participant failed.</param>
    /// <returns><paramref name="error"/>, for throwing.</returns>
    public Exception Abort(Exception error, Device device)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (Interlocked.CompareExchange(ref _failure, error, null) is null)
        {
            Volatile.Write(ref _failedDevice, device);
        }

        Signal.Notify();
        return error;
    }

    /// <summary>Aborts the region because its token was canceled: participants in collectives, and their next collectives, throw.</summary>
    private void Cancel()
    {
        if (Volatile.Read(ref _remaining) == 0)
        {
            // Every participant has returned: the region's result is complete, and cancellation comes too late to matter.
            return;
        }

        Interlocked.CompareExchange(ref _failure, new OperationCanceledException($"The SPMD region over {Mesh} was canceled.", CancellationToken), null);
        Signal.Notify();
    }

    /// <summary>Throws when the region was aborted.</summary>
    /// <exception cref="OperationCanceledException">A participant failed; its exception is the inner one.</exception>
    public void ThrowIfAborted()
    {
        if (Failure is null && CancellationToken.IsCancellationRequested)
        {
            // Seen here too, not only through the token's callback, which is registered once the caller waits.
            Cancel();
        }

        Exception? failure = Failure;
        if (failure is not null)
        {
            throw new OperationCanceledException(AbortedMessage, failure);
        }
    }

    /// <summary>Waits until every local participant has returned, then rethrows the first failure as it was thrown.</summary>
    /// <remarks>Cancellation of <see cref="CancellationToken"/> aborts the region meanwhile; the wait still lasts until every participant returned.</remarks>
    public void Complete()
    {
        var finished = new AllFinished(this);
        using (CancellationToken.UnsafeRegister(static state => ((SpmdRegion)state!).Cancel(), this))
        {
            Waiting.Until(ref finished, _completionSignal, WaitPolicy.Idle, long.MaxValue, region: null);
        }

        Exception? failure = Failure;
        if (failure is not null)
        {
            ExceptionDispatchInfo.Capture(failure).Throw();
        }

        // Only after a clean run: an aborted round may leave arrivals that the next region must not inherit.
        Backend.RendezvousCache.Return(Mesh, _rendezvous);
    }

    internal bool IsLocal(Device device) => Backend.Provider.IsAddressable(device);

    internal Rendezvous GetRendezvous(AxisGroup group)
    {
        lock (_rendezvousLock)
        {
            if (!_rendezvous.TryGetValue(group.Key, out Rendezvous?[]? groups))
            {
                groups = new Rendezvous?[group.GroupCount];
                _rendezvous.Add(group.Key, groups);
            }

            return groups[group.GroupIndex] ??= new Rendezvous(this, group, Backend.CreateExecutor);
        }
    }

    private readonly struct AllFinished(SpmdRegion region) : IWaitCondition
    {
        public bool IsSatisfied() => Volatile.Read(ref region._remaining) == 0;
    }
}
