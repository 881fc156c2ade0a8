using System.Runtime.ExceptionServices;

namespace Artifex.Mpi.Runtime;

/// <summary>One run of an SPMD body on this process's devices of a mesh: its local participants, rendezvous points and failure state.</summary>
internal sealed class MpiSpmdRegion
{
    private readonly Action<SpmdContext> _body;
    private readonly Dictionary<(string Key, int Group), MpiRendezvous> _rendezvous = [];
    private readonly Lock _rendezvousLock = new();
    private readonly object _completion = new();
    private int _remaining;
    private Exception? _failure;
    private Device? _failedDevice;

    public MpiSpmdRegion(MpiProvider provider, Mesh mesh, Action<SpmdContext> body, TimeSpan timeout, int participants)
    {
        Provider = provider;
        Mesh = mesh;
        _body = body;
        Timeout = timeout;
        _remaining = participants;
    }

    public MpiProvider Provider { get; }

    public Mesh Mesh { get; }

    public TimeSpan Timeout { get; }

    public bool IsAborted => Volatile.Read(ref _failure) is not null;

    public MpiRendezvous GetRendezvous(AxisGroup group)
    {
        lock (_rendezvousLock)
        {
            if (!_rendezvous.TryGetValue((group.Key, group.GroupIndex), out MpiRendezvous? rendezvous))
            {
                rendezvous = new MpiRendezvous(this, group);
                _rendezvous.Add((group.Key, group.GroupIndex), rendezvous);
            }

            return rendezvous;
        }
    }

    /// <summary>Runs one local participant on its device's worker thread; never throws.</summary>
    public void RunParticipant(int deviceIndex)
    {
        var context = new MpiSpmdContext(this, deviceIndex);
        try
        {
            context.Bind();
            _body(context);
        }
        catch (OperationCanceledException) when (IsAborted)
        {
            // Released because another participant failed first; that failure is what the region reports.
        }
        catch (Exception error)
        {
            Abort(error, Mesh.Devices[deviceIndex]);
        }
        finally
        {
            MpiSpmdContext.Unbind();
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
                $"The SPMD region over {Mesh} was aborted because the participant on {_failedDevice} failed: {failure.Message}", failure);
        }
    }

    /// <summary>Waits for every local participant, then rethrows the first failure as it was thrown.</summary>
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

    /// <summary>Records the first failure and wakes every waiting local participant.</summary>
    public void Abort(Exception error, Device device)
    {
        if (Interlocked.CompareExchange(ref _failure, error, null) is null)
        {
            _failedDevice = device;
        }

        MpiRendezvous[] all;
        lock (_rendezvousLock)
        {
            all = [.. _rendezvous.Values];
        }

        foreach (MpiRendezvous rendezvous in all)
        {
            rendezvous.Wake();
        }
    }
}
