using System.Runtime.ExceptionServices;

namespace Artifex.Cpu.Runtime;

/// <summary>One run of an SPMD body over a mesh: its participants, its rendezvous points and its failure state.</summary>
internal sealed class CpuSpmdRegion
{
    private readonly Action<SpmdContext> _body;
    private readonly Dictionary<string, GroupRendezvous[]> _rendezvous = new(StringComparer.Ordinal);
    private readonly Lock _rendezvousLock = new();
    private int _remaining;
    private Exception? _failure;
    private Device? _failedDevice;

    public CpuSpmdRegion(Mesh mesh, Action<SpmdContext> body, TimeSpan timeout)
    {
        Mesh = mesh;
        _body = body;
        Timeout = timeout;
        _remaining = mesh.Size;
        Oversubscribed = mesh.Size > Environment.ProcessorCount;
    }

    public Mesh Mesh { get; }

    public TimeSpan Timeout { get; }

    /// <summary>Gets the signal of the collectives' waiters. Separate from the completion signal, so that a collective never wakes the thread that waits for the whole region.</summary>
    public WaitSignal Signal { get; } = new();

    private WaitSignal CompletionSignal { get; } = new();

    /// <summary>Gets a value indicating whether there are more participants than cores, so waits must give up their core quickly.</summary>
    public bool Oversubscribed { get; }

    public WaitPolicy WaitPolicy => WaitPolicy.ForCollective(Oversubscribed);

    public Exception? Failure => Volatile.Read(ref _failure);

    public bool IsAborted => Volatile.Read(ref _failure) is not null;

    public GroupRendezvous GetRendezvous(AxisGroup group)
    {
        lock (_rendezvousLock)
        {
            if (!_rendezvous.TryGetValue(group.Key, out GroupRendezvous?[]? groups))
            {
                groups = new GroupRendezvous[group.GroupCount];
                _rendezvous.Add(group.Key, groups!);
            }

            return groups[group.GroupIndex] ??= new GroupRendezvous(this, group);
        }
    }

    /// <summary>Runs the body for one participant on the calling (worker) thread; never throws.</summary>
    public void RunParticipant(int deviceIndex)
    {
        var context = new CpuSpmdContext(this, deviceIndex);
        try
        {
            context.Bind();
            _body(context);
        }
        catch (Exception error) when (error is not OperationCanceledException || !IsAborted)
        {
            Abort(error, Mesh.Devices[deviceIndex]);
        }
        catch (OperationCanceledException)
        {
            // Released because another participant failed first; that failure is what the region reports.
        }
        finally
        {
            CpuSpmdContext.Unbind();
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                CompletionSignal.Notify();
            }
        }
    }

    /// <summary>Records the first failure and releases every waiting participant. Returns <paramref name="error"/> for throwing.</summary>
    public Exception Abort(Exception error, Device device)
    {
        if (Interlocked.CompareExchange(ref _failure, error, null) is null)
        {
            _failedDevice = device;
        }

        Signal.Notify();
        return error;
    }

    public void ThrowIfAborted()
    {
        Exception? failure = Volatile.Read(ref _failure);
        if (failure is not null)
        {
            throw new OperationCanceledException(
                $"The SPMD region over {Mesh} was aborted because the participant on {_failedDevice} failed: {failure.Message}",
                failure);
        }
    }

    /// <summary>Waits until every participant has returned, then rethrows the first failure as it was thrown.</summary>
    public void Complete()
    {
        var finished = new AllFinished(this);
        Waiting.Until(ref finished, CompletionSignal, WaitPolicy.Idle, long.MaxValue, region: null);
        Exception? failure = Failure;
        if (failure is not null)
        {
            ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    private readonly struct AllFinished(CpuSpmdRegion region) : IWaitCondition
    {
        public bool IsSatisfied() => Volatile.Read(ref region._remaining) == 0;
    }
}
