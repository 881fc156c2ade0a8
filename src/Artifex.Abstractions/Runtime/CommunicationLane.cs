using System.Runtime.ExceptionServices;

namespace Artifex.Runtime;

/// <summary>
/// A device's communication thread: it runs the collectives its participant started without waiting
/// (<see cref="CollectiveRequest"/>), one after another in the order they were started, through the same rendezvous and
/// executor as blocking collectives — so every provider gets non-blocking collectives with the same agreement checks,
/// timeouts and bits. Owned by the <see cref="SpmdWorkerPool"/> (one per device, created on first use, reused by every
/// region), so starting a collective creates no thread and, once the queue has grown to the largest number in flight,
/// allocates nothing.
/// </summary>
/// <remarks>
/// One producer (the attached participant's thread) and one consumer (the lane's thread). Tickets count up for the lane's
/// whole life, so a request from an ended region is simply complete.
/// </remarks>
internal sealed class CommunicationLane : IDisposable
{
    private readonly Thread _thread;
    private readonly WaitSignal _posted = new();
    private readonly WaitSignal _finished = new();
    private readonly Lock _gate = new();
    private Entry[] _entries = new Entry[8];
    private long[] _finishedAt = new long[8];
    private Dictionary<long, Exception>? _failures;
    private long _issued;
    private long _completed;
    private SpmdBackend? _backend;
    private SpmdContext? _participant;
    private SpmdContext? _prepared;
    private volatile bool _stopping;

    public CommunicationLane(Device device)
    {
        // As the pool's workers: the thread must not reach the provider, or an undisposed one could never be collected.
        _thread = new Thread(Loop) { IsBackground = true, Name = $"Artifex {device} communication" };
        _thread.Start();
    }

    /// <summary>Binds the lane to a participant for the rest of its body (on the participant's thread).</summary>
    public void Attach(SpmdContext participant, SpmdBackend backend)
    {
        lock (_gate)
        {
            _participant = participant;
            _backend = backend;
        }
    }

    /// <summary>Queues a collective; the buffers stay allocated until it has run.</summary>
    public CollectiveRequest Enqueue(Rendezvous rendezvous, int rank, in CollectiveCall call)
    {
        DeviceBuffer? input = call.Input;
        DeviceBuffer? output = ReferenceEquals(call.Output, input) ? null : call.Output;
        input?.AcquireUse();
        try
        {
            output?.AcquireUse();
        }
        catch
        {
            input?.ReleaseUse();
            throw;
        }

        long ticket;
        lock (_gate)
        {
            ticket = _issued;
            if (ticket - _completed == _entries.Length)
            {
                Grow();
            }

            _entries[ticket % _entries.Length] = new Entry(rendezvous, rank, call);
            Volatile.Write(ref _issued, ticket + 1);
        }

        _posted.Notify();
        return new CollectiveRequest(this, ticket);
    }

    public bool IsCompleted(long ticket) => Volatile.Read(ref _completed) > ticket;

    /// <summary>Waits for one collective and rethrows its failure.</summary>
    public void Wait(long ticket)
    {
        var done = new Completed(this, ticket + 1);
        Waiting.Until(ref done, _finished, WaitPolicy.OversubscribedCollective, long.MaxValue, region: null);
        Exception? failure = null;
        lock (_gate)
        {
            _failures?.Remove(ticket, out failure);
        }

        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <summary>Waits until every queued collective has run (before a blocking collective keeps the issue order).</summary>
    public void WaitIdle()
    {
        var done = new Completed(this, Volatile.Read(ref _issued));
        Waiting.Until(ref done, _finished, WaitPolicy.OversubscribedCollective, long.MaxValue, region: null);
    }

    /// <summary>
    /// Ends the participant's use: waits for what it queued, detaches, and returns the first failure nobody waited for
    /// (the participant fails with it), or <see langword="null"/>.
    /// </summary>
    public Exception? Detach()
    {
        WaitIdle();
        lock (_gate)
        {
            _participant = null;
            _backend = null;
            _prepared = null;
            Exception? first = null;
            if (_failures is { Count: > 0 })
            {
                first = _failures[_failures.Keys.Min()];
                _failures.Clear();
            }

            return first;
        }
    }

    public void Stop()
    {
        _stopping = true;
        _posted.Notify();
    }

    public void Dispose()
    {
        Stop();
        _thread.Join(TimeSpan.FromSeconds(5));
    }

    /// <summary>Gets when a collective finished (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), while its slot has not been reused.</summary>
    public long FinishedAt(long ticket)
    {
        lock (_gate)
        {
            return ticket >= _issued - _finishedAt.Length ? _finishedAt[ticket % _finishedAt.Length] : 0;
        }
    }

    private void Grow()
    {
        var larger = new Entry[_entries.Length * 2];
        var finished = new long[larger.Length];
        for (long t = Math.Max(0, _issued - _entries.Length); t < _issued; t++)
        {
            larger[t % larger.Length] = _entries[t % _entries.Length];
            finished[t % finished.Length] = _finishedAt[t % _finishedAt.Length];
        }

        _entries = larger;
        _finishedAt = finished;
    }

    private void Loop()
    {
        while (true)
        {
            var posted = new Posted(this);
            Waiting.Until(ref posted, _posted, WaitPolicy.Idle, long.MaxValue, region: null);
            if (_stopping && Volatile.Read(ref _issued) == _completed)
            {
                return;
            }

            RunNext();
        }
    }

    /// <summary>Runs the oldest queued collective in a frame of its own, so the idle loop keeps nothing of it reachable.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void RunNext()
    {
        long ticket = _completed;
        Entry entry;
        SpmdContext? participant;
        SpmdBackend? backend;
        bool prepare;
        lock (_gate)
        {
            entry = _entries[ticket % _entries.Length];
            _entries[ticket % _entries.Length] = default;
            participant = _participant;
            backend = _backend;
            prepare = participant is not null && !ReferenceEquals(participant, _prepared);
            _prepared = participant;
        }

        try
        {
            if (prepare)
            {
                // E.g. a GPU context made current on this thread, as on the participant's own.
                backend!.OnCommunicationThread(participant!);
            }

            CollectiveCall call = entry.Call;
            entry.Rendezvous.Run(entry.Rank, in call);
        }
        catch (Exception error)
        {
            lock (_gate)
            {
                (_failures ??= []).Add(ticket, error);
            }
        }
        finally
        {
            entry.Call.Input?.ReleaseUse();
            if (!ReferenceEquals(entry.Call.Output, entry.Call.Input))
            {
                entry.Call.Output?.ReleaseUse();
            }

            lock (_gate)
            {
                _finishedAt[ticket % _finishedAt.Length] = System.Diagnostics.Stopwatch.GetTimestamp();
            }

            Volatile.Write(ref _completed, ticket + 1);
            _finished.Notify();
        }
    }

    private readonly record struct Entry(Rendezvous Rendezvous, int Rank, CollectiveCall Call);

    private readonly struct Posted(CommunicationLane lane) : IWaitCondition
    {
        public bool IsSatisfied() => Volatile.Read(ref lane._issued) != lane._completed || lane._stopping;
    }

    private readonly struct Completed(CommunicationLane lane, long target) : IWaitCondition
    {
        public bool IsSatisfied() => Volatile.Read(ref lane._completed) >= target;
    }
}
