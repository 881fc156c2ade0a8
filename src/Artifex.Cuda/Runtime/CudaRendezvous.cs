using System.Globalization;
using Artifex.Cuda.Native;

namespace Artifex.Cuda.Runtime;

/// <summary>
/// Where the participants of one axis group meet for each collective. The last to arrive checks that all agree and
/// issues the NCCL calls of the whole group from its thread; nobody enqueues GPU work until everyone has arrived, so a
/// participant that fails or never comes can never leave the others' GPUs waiting inside NCCL.
/// </summary>
internal sealed class CudaRendezvous
{
    private readonly CudaSpmdRegion _region;
    private readonly AxisGroupMembers _group;
    private readonly CudaCollectiveCall[] _calls;
    private readonly bool[] _present;
    private readonly object _lock = new();
    private int _arrived;
    private long _generation;
    private string? _disagreement;
    private Exception? _issueFailure;

    public CudaRendezvous(CudaSpmdRegion region, AxisGroupMembers group)
    {
        _region = region;
        _group = group;
        _calls = new CudaCollectiveCall[group.Size];
        _present = new bool[group.Size];
    }

    /// <summary>Wakes waiters so they notice the region was aborted.</summary>
    public void Wake()
    {
        lock (_lock)
        {
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Arrives with this participant's call and returns once the group's collective is enqueued on every stream.</summary>
    public void Run(int rank, in CudaCollectiveCall call)
    {
        lock (_lock)
        {
            _region.ThrowIfAborted();
            long generation = _generation;
            _calls[rank] = call;
            _present[rank] = true;
            if (++_arrived == _calls.Length)
            {
                Complete();
            }
            else
            {
                WaitForOthers(rank, generation, call.Kind);
            }

            if (_disagreement is not null)
            {
                throw new ArgumentException(_disagreement, nameof(call));
            }

            if (_issueFailure is not null)
            {
                throw new InvalidOperationException(
                    $"{CudaCollectiveCall.Name(call.Kind)} over axis {_group.Description} failed on the GPU: {_issueFailure.Message}", _issueFailure);
            }
        }
    }

    private void Complete()
    {
        _disagreement = Validate();
        _issueFailure = null;
        if (_region.IsAborted)
        {
            // A participant failed meanwhile: its buffers may be gone, so nothing is issued.
            _issueFailure = new OperationCanceledException($"The SPMD region over {_region.Mesh} was aborted before this collective could run.");
        }
        else if (_disagreement is null && _calls[0].Kind != CudaCollectiveKind.Barrier && _calls.Length > 1)
        {
            Issue();
        }

        _arrived = 0;
        Array.Clear(_present);
        _generation++;
        Monitor.PulseAll(_lock);
    }

    private void Issue()
    {
        CudaResourceHandle[] communicators = [];
        try
        {
            communicators = _region.Provider.Communicators.Get(_group.States);
            NcclLaunch.Group(_calls, communicators);
        }
        catch (Exception error) when (error is CudaException or NotSupportedException)
        {
            // A failed NCCL call leaves the communicators unusable: teardown must abort them, not finalize them.
            foreach (CudaResourceHandle communicator in communicators)
            {
                communicator.Faulted = true;
            }

            _issueFailure = error;
        }
    }

    private void WaitForOthers(int rank, long generation, CudaCollectiveKind kind)
    {
        long deadline = Environment.TickCount64 + (long)_region.Timeout.TotalMilliseconds;
        while (_generation == generation)
        {
            if (_region.IsAborted)
            {
                Withdraw(rank);
                _region.ThrowIfAborted();
            }

            long remaining = deadline - Environment.TickCount64;
            if (remaining <= 0)
            {
                // Leave the round before failing, so a late participant can never complete it with this one's buffers,
                // and abort the region so every other participant is released now rather than at its own timeout.
                TimeoutException error = TimedOut(kind);
                Withdraw(rank);
                _region.Abort(error, _group.Devices[rank]);
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

    private TimeoutException TimedOut(CudaCollectiveKind kind)
    {
        int[] missing = [.. Enumerable.Range(0, _calls.Length).Where(k => !_present[k])];
        string devices = string.Join(", ", missing.Select(k => _group.Devices[k].ToString()));
        return new TimeoutException(string.Create(
            CultureInfo.InvariantCulture,
            $"{CudaCollectiveCall.Name(kind)} over axis {_group.Description} timed out after {_region.Timeout.TotalSeconds} s: rank{(missing.Length > 1 ? "s" : string.Empty)} {string.Join(", ", missing)} of {_calls.Length} ({devices}) never arrived."));
    }

    private string? Validate()
    {
        // Messages are built only when something disagrees, so an agreeing round allocates nothing.
        CudaCollectiveCall first = _calls[0];
        bool agree = true;
        for (int k = 1; k < _calls.Length && agree; k++)
        {
            CudaCollectiveCall c = _calls[k];
            agree = c.Kind == first.Kind && c.ElementType == first.ElementType && c.InputLength == first.InputLength
                && c.OutputLength == first.OutputLength && c.Op == first.Op && c.Root == first.Root;
        }

        return agree ? null : Describe();
    }

    private string? Describe()
    {
        return Disagreement("collective", static c => CudaCollectiveCall.Name(c.Kind))
            ?? Disagreement("element type", static c => c.ElementType?.Name ?? "none")
            ?? Disagreement("element count", static c => c.InputLength.ToString(CultureInfo.InvariantCulture))
            ?? Disagreement("output element count", static c => c.OutputLength.ToString(CultureInfo.InvariantCulture))
            ?? Disagreement("reduce op", static c => c.Kind == CudaCollectiveKind.AllReduce ? c.Op.ToString() : "none")
            ?? Disagreement("root", static c => c.Root.ToString(CultureInfo.InvariantCulture));
    }

    private string? Disagreement(string what, Func<CudaCollectiveCall, string> key)
    {
        string first = key(_calls[0]);
        if (_calls.All(c => string.Equals(key(c), first, StringComparison.Ordinal)))
        {
            return null;
        }

        IEnumerable<string> groups = Enumerable.Range(0, _calls.Length)
            .GroupBy(k => key(_calls[k]), StringComparer.Ordinal)
            .Select(g => $"rank{(g.Count() > 1 ? "s" : string.Empty)} {string.Join(", ", g)} {(g.Count() > 1 ? "have" : "has")} {g.Key}");
        return $"Participants of {CudaCollectiveCall.Name(_calls[0].Kind)} over axis {_group.Description} disagree on the {what}: {string.Join("; ", groups)}. No buffer was changed.";
    }
}
