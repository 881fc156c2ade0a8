using System.Runtime.ExceptionServices;

namespace Artifex.Cuda.Runtime;

/// <summary>One run of an SPMD body over a mesh of GPUs: its participants, rendezvous points and failure state.</summary>
internal sealed class CudaSpmdRegion
{
    private readonly Action<SpmdContext> _body;
    private readonly Dictionary<(string Key, int Group), CudaRendezvous> _rendezvous = [];
    private readonly Lock _rendezvousLock = new();
    private readonly object _completion = new();
    private int _remaining;
    private Exception? _failure;
    private Device? _failedDevice;

    public CudaSpmdRegion(CudaProvider provider, Mesh mesh, Action<SpmdContext> body, TimeSpan timeout)
    {
        Provider = provider;
        Mesh = mesh;
        _body = body;
        Timeout = timeout;
        _remaining = mesh.Size;
    }

    public CudaProvider Provider { get; }

    public Mesh Mesh { get; }

    public TimeSpan Timeout { get; }

    public bool IsAborted => Volatile.Read(ref _failure) is not null;

    public CudaRendezvous GetRendezvous(AxisGroup group)
    {
        lock (_rendezvousLock)
        {
            if (!_rendezvous.TryGetValue((group.Key, group.GroupIndex), out CudaRendezvous? rendezvous))
            {
                rendezvous = new CudaRendezvous(this, AxisGroupMembers.Of(group, Provider));
                _rendezvous.Add((group.Key, group.GroupIndex), rendezvous);
            }

            return rendezvous;
        }
    }

    /// <summary>Runs one participant on its device's worker thread; never throws.</summary>
    public void RunParticipant(int deviceIndex)
    {
        Device device = Mesh.Devices[deviceIndex];
        var context = new CudaSpmdContext(this, deviceIndex);
        try
        {
            CudaDeviceState state = Provider.GetState(device);
            state.MakeCurrent();
            context.Bind();
            _body(context);

            // Errors of queued GPU work surface at a synchronization: make them the region's, not a later caller's.
            state.Synchronize();
        }
        catch (OperationCanceledException) when (IsAborted)
        {
            // Released because another participant failed first; that failure is what the region reports.
        }
        catch (Exception error)
        {
            Abort(error, device);
        }
        finally
        {
            CudaSpmdContext.Unbind();
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
        if (Interlocked.CompareExchange(ref _failure, error, null) is null)
        {
            _failedDevice = device;
        }

        CudaRendezvous[] all;
        lock (_rendezvousLock)
        {
            all = [.. _rendezvous.Values];
        }

        foreach (CudaRendezvous rendezvous in all)
        {
            rendezvous.Wake();
        }
    }
}
