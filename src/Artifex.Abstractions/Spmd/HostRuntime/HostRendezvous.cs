using System.Diagnostics;
using System.Globalization;

namespace Artifex.HostRuntime;

/// <summary>
/// Where a process's participants of one axis group meet for each collective, for providers whose collectives are issued
/// from the host (a GPU provider's NCCL calls, an MPI provider's process-level calls). The last local participant to
/// arrive checks that all agree and runs <see cref="Execute"/> for all of them; nobody starts the collective before
/// everyone has arrived, so a participant that fails or never arrives releases the others with an exception instead of
/// leaving them inside a collective library.
/// </summary>
internal abstract class HostRendezvous
{
    private static readonly long s_spinTicks = Stopwatch.Frequency / 50_000;

    private readonly object _lock = new();
    private readonly bool[] _present;
    private int _arrived;
    private long _generation;
    private string? _disagreement;
    private Exception? _failure;

    /// <summary>Initializes the rendezvous of a group.</summary>
    /// <param name="region">The region.</param>
    /// <param name="group">The axis group.</param>
    /// <param name="localRanks">The group ranks whose participants run in this process, ascending.</param>
    protected HostRendezvous(HostSpmdRegion region, AxisGroup group, int[] localRanks)
    {
        Region = region;
        Group = group;
        LocalRanks = localRanks;
        Description = group.ToString();
        Devices = [.. Enumerable.Range(0, group.Size).Select(r => group.Mesh.Devices[group.GetDeviceIndex(r)])];
        Calls = new HostCollectiveCall[group.Size];
        _present = new bool[group.Size];
    }

    /// <summary>Gets the region.</summary>
    protected HostSpmdRegion Region { get; }

    /// <summary>Gets the axis group.</summary>
    protected AxisGroup Group { get; }

    /// <summary>Gets the ranks whose participants run here, ascending.</summary>
    protected int[] LocalRanks { get; }

    /// <summary>Gets the group's devices in rank order.</summary>
    protected Device[] Devices { get; }

    /// <summary>Gets the axis names as messages show them, e.g. <c>'data'</c>.</summary>
    protected string Description { get; }

    /// <summary>Gets the current round's calls by rank (only the local ranks' are set).</summary>
    protected HostCollectiveCall[] Calls { get; }

    /// <summary>Wakes waiters so they notice the region was aborted.</summary>
    public void Wake()
    {
        lock (_lock)
        {
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Arrives with this participant's call and returns when the group's collective has been run.</summary>
    /// <param name="rank">The participant's rank in the group.</param>
    /// <param name="call">Its call.</param>
    public void Run(int rank, in HostCollectiveCall call)
    {
        if (LocalRanks.Length == 1)
        {
            RunAlone(rank, call);
            return;
        }

        long generation;
        lock (_lock)
        {
            Region.ThrowIfAborted();
            generation = _generation;
            Calls[rank] = call;
            _present[rank] = true;
            if (++_arrived == LocalRanks.Length)
            {
                Complete();
                ThrowIfFailed(call);
                return;
            }
        }

        // The last participant usually arrives within microseconds, while waking a blocked thread costs tens of them:
        // spin briefly outside the lock before blocking (not when participants outnumber the cores).
        SpinUntilDone(generation);
        lock (_lock)
        {
            if (_generation == generation)
            {
                WaitForOthers(rank, generation, call.Kind);
            }

            ThrowIfFailed(call);
        }
    }

    /// <summary>
    /// The only local participant of its group (one device per process) has nobody to meet: it runs the collective
    /// without the lock and the wake-up, which cost about a quarter of a 4-byte cross-process all-reduce's own path.
    /// </summary>
    private void RunAlone(int rank, in HostCollectiveCall call)
    {
        Region.ThrowIfAborted();
        Calls[rank] = call;
        _disagreement = null;
        _failure = null;
        try
        {
            Execute();
        }
        catch (Exception error)
        {
            _failure = error;
        }

        ThrowIfFailed(call);
    }

    private void SpinUntilDone(long generation)
    {
        if (LocalRanks.Length > Environment.ProcessorCount)
        {
            return;
        }

        long until = Stopwatch.GetTimestamp() + s_spinTicks;
        var spinner = default(SpinWait);
        while (Volatile.Read(ref _generation) == generation && !Region.IsAborted && Stopwatch.GetTimestamp() < until)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    private void ThrowIfFailed(in HostCollectiveCall call)
    {
        if (_disagreement is not null)
        {
            throw new ArgumentException(_disagreement, nameof(call));
        }

        if (_failure is not null)
        {
            throw new InvalidOperationException($"{HostCollectiveCall.Name(call.Kind)} over axis {Description} failed: {_failure.Message}", _failure);
        }
    }

    /// <summary>Runs the collective for every local participant; called once per round, under the lock, by the last to arrive.</summary>
    protected abstract void Execute();

    private void Complete()
    {
        _disagreement = Validate();
        _failure = null;
        if (Region.IsAborted)
        {
            // A participant failed meanwhile: its buffers may be gone, so nothing runs.
            _failure = new OperationCanceledException($"The SPMD region over {Region.Mesh} was aborted before this collective could run.");
        }
        else if (_disagreement is null)
        {
            try
            {
                Execute();
            }
            catch (Exception error)
            {
                // Every participant of the round gets the failure (wrapped), not only the one whose thread ran it.
                _failure = error;
            }
        }

        _arrived = 0;
        Array.Clear(_present);
        Interlocked.Increment(ref _generation);
        Monitor.PulseAll(_lock);
    }

    private void WaitForOthers(int rank, long generation, HostCollectiveKind kind)
    {
        long deadline = Environment.TickCount64 + (long)Region.Timeout.TotalMilliseconds;
        while (_generation == generation)
        {
            if (Region.IsAborted)
            {
                Withdraw(rank);
                Region.ThrowIfAborted();
            }

            long remaining = deadline - Environment.TickCount64;
            if (remaining <= 0)
            {
                // Leave the round first, so a late participant never completes it with this one's buffers, and abort the
                // region so every other participant is released now rather than at its own timeout.
                TimeoutException error = TimedOut(kind);
                Withdraw(rank);
                Region.Abort(error, Devices[rank]);
                throw error;
            }

            Monitor.Wait(_lock, TimeSpan.FromMilliseconds(Math.Min(remaining, int.MaxValue)));
        }
    }

    private void Withdraw(int rank)
    {
        _present[rank] = false;
        _arrived--;
    }

    private TimeoutException TimedOut(HostCollectiveKind kind)
    {
        int[] missing = [.. LocalRanks.Where(k => !_present[k])];
        return new TimeoutException(string.Create(
            CultureInfo.InvariantCulture,
            $"{HostCollectiveCall.Name(kind)} over axis {Description} timed out after {Region.Timeout.TotalSeconds} s: rank{(missing.Length > 1 ? "s" : string.Empty)} {string.Join(", ", missing)} of {Group.Size} ({string.Join(", ", missing.Select(k => Devices[k]))}) never arrived."));
    }

    private string? Validate()
    {
        // Messages are built only when something disagrees, so an agreeing round allocates nothing.
        HostCollectiveCall first = Calls[LocalRanks[0]];
        foreach (int k in LocalRanks)
        {
            if (!Calls[k].Matches(first))
            {
                return Describe();
            }
        }

        return null;
    }

    private string? Describe()
    {
        return Disagreement("collective", static c => HostCollectiveCall.Name(c.Kind))
            ?? Disagreement("element type", static c => c.ElementType?.Name ?? "none")
            ?? Disagreement("element count", static c => c.InputLength.ToString(CultureInfo.InvariantCulture))
            ?? Disagreement("output element count", static c => c.OutputLength.ToString(CultureInfo.InvariantCulture))
            ?? Disagreement("reduce op", static c => c.Kind == HostCollectiveKind.AllReduce ? c.Op.ToString() : "none")
            ?? Disagreement("root", static c => c.Root.ToString(CultureInfo.InvariantCulture));
    }

    private string? Disagreement(string what, Func<HostCollectiveCall, string> key)
    {
        string first = key(Calls[LocalRanks[0]]);
        if (LocalRanks.All(k => string.Equals(key(Calls[k]), first, StringComparison.Ordinal)))
        {
            return null;
        }

        IEnumerable<string> groups = LocalRanks
            .GroupBy(k => key(Calls[k]), StringComparer.Ordinal)
            .Select(g => $"rank{(g.Count() > 1 ? "s" : string.Empty)} {string.Join(", ", g)} {(g.Count() > 1 ? "have" : "has")} {g.Key}");
        return $"Participants of {HostCollectiveCall.Name(Calls[LocalRanks[0]].Kind)} over axis {Description} disagree on the {what}: {string.Join("; ", groups)}. No buffer was changed.";
    }
}
