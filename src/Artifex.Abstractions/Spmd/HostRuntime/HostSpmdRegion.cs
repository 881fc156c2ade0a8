using System.Runtime.ExceptionServices;

namespace Artifex.HostRuntime;

/// <summary>One run of an SPMD body on a process's devices of a mesh: its participants, rendezvous points and failure state.</summary>
internal sealed class HostSpmdRegion
{
    private readonly Action<SpmdContext> _body;
    private readonly Func<HostSpmdRegion, int, HostSpmdContext> _createContext;
    private readonly Func<HostSpmdRegion, AxisGroup, HostRendezvous> _createRendezvous;
    private readonly Action<Exception, Device>? _onFailure;
    private readonly Dictionary<(string Key, int Group), HostRendezvous> _rendezvous = [];
    private readonly Lock _rendezvousLock = new();
    private readonly object _completion = new();
    private int _remaining;
    private Exception? _failure;
    private Device? _failedDevice;

    /// <summary>Initializes a region.</summary>
    /// <param name="mesh">The mesh.</param>
    /// <param name="body">The per-device body.</param>
    /// <param name="timeout">How long a participant waits for the others in a collective.</param>
    /// <param name="participants">How many participants run here.</param>
    /// <param name="createContext">Creates the provider's participant for a mesh position.</param>
    /// <param name="createRendezvous">Creates the provider's rendezvous for an axis group.</param>
    /// <param name="onFailure">
    /// Runs on a failing participant's thread before the region is aborted (an MPI provider ends the job there: its other
    /// processes may be waiting in MPI, out of this region's reach).
    /// </param>
    public HostSpmdRegion(
        Mesh mesh,
        Action<SpmdContext> body,
        TimeSpan timeout,
        int participants,
        Func<HostSpmdRegion, int, HostSpmdContext> createContext,
        Func<HostSpmdRegion, AxisGroup, HostRendezvous> createRendezvous,
        Action<Exception, Device>? onFailure = null)
    {
        _onFailure = onFailure;
        Mesh = mesh;
        _body = body;
        Timeout = timeout;
        _remaining = participants;
        _createContext = createContext;
        _createRendezvous = createRendezvous;
    }

    public Mesh Mesh { get; }

    public TimeSpan Timeout { get; }

    public bool IsAborted => Volatile.Read(ref _failure) is not null;

    public HostRendezvous GetRendezvous(AxisGroup group)
    {
        lock (_rendezvousLock)
        {
            if (!_rendezvous.TryGetValue((group.Key, group.GroupIndex), out HostRendezvous? rendezvous))
            {
                rendezvous = _createRendezvous(this, group);
                _rendezvous.Add((group.Key, group.GroupIndex), rendezvous);
            }

            return rendezvous;
        }
    }

    /// <summary>Runs one participant on the calling (device) thread; never throws.</summary>
    public void RunParticipant(int deviceIndex)
    {
        HostSpmdContext? context = null;
        try
        {
            context = _createContext(this, deviceIndex);
            context.OnEnter();
            context.Bind();
            _body(context);
            context.OnExit();
        }
        catch (OperationCanceledException) when (IsAborted)
        {
            // Released because another participant failed first; that failure is what the region reports.
        }
        catch (Exception error)
        {
            _onFailure?.Invoke(error, Mesh.Devices[deviceIndex]);
            Abort(error, Mesh.Devices[deviceIndex]);
        }
        finally
        {
            HostSpmdContext.Unbind();
            lock (_completion)
            {
                if (--_remaining == 0)
                {
                    Monitor.PulseAll(_completion);
                }
            }
        }
    }

    public void ThrowIfAborted()
    {
        Exception? failure = Volatile.Read(ref _failure);
        if (failure is not null)
        {
            throw new OperationCanceledException(
                $"The SPMD region over {Mesh} was aborted because the participant on {Volatile.Read(ref _failedDevice)} failed: {failure.Message}", failure);
        }
    }

    /// <summary>Waits for every participant, then rethrows the first failure as it was thrown.</summary>
    public void Complete()
    {
        lock (_completion)
        {
            while (_remaining > 0)
            {
                Monitor.Wait(_completion);
            }
        }

        Exception? failure = Volatile.Read(ref _failure);
        if (failure is not null)
        {
            ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    /// <summary>Records the first failure and wakes every waiting participant.</summary>
    public void Abort(Exception error, Device device)
    {
        Volatile.Write(ref _failedDevice, device);
        if (Interlocked.CompareExchange(ref _failure, error, null) is not null)
        {
            return;
        }

        HostRendezvous[] all;
        lock (_rendezvousLock)
        {
            all = [.. _rendezvous.Values];
        }

        foreach (HostRendezvous rendezvous in all)
        {
            rendezvous.Wake();
        }
    }
}
