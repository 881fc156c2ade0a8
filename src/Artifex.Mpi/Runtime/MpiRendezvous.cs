using System.Globalization;

namespace Artifex.Mpi.Runtime;

/// <summary>
/// Where this process's participants of one axis group meet. The last local participant to arrive runs the collective for
/// all of them: a reduction over the local inputs in rank order, then one MPI call over the processes of the group (if it
/// spans several), then the copy back to every local output. A fixed process/device layout gives a fixed order of
/// operations; MPI's own algorithm for a given process count and size is the rest of the order.
/// </summary>
internal sealed partial class MpiRendezvous
{
    private readonly MpiSpmdRegion _region;
    private readonly AxisGroup _group;
    private readonly MpiGroupLayout _layout;
    private readonly MpiCollectiveCall[] _calls;
    private readonly bool[] _present;
    private readonly object _lock = new();
    private int _arrived;
    private long _generation;
    private string? _disagreement;
    private Exception? _failure;

    public MpiRendezvous(MpiSpmdRegion region, AxisGroup group)
    {
        _region = region;
        _group = group;
        _layout = new MpiGroupLayout(group, region.Provider.ProcessIndex);
        _calls = new MpiCollectiveCall[group.Size];
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

    /// <summary>Arrives with this participant's call and returns when the group's collective is done.</summary>
    public void Run(int rank, in MpiCollectiveCall call)
    {
        lock (_lock)
        {
            _region.ThrowIfAborted();
            long generation = _generation;
            _calls[rank] = call;
            _present[rank] = true;
            if (++_arrived == _layout.LocalRanks.Length)
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

            if (_failure is not null)
            {
                throw new InvalidOperationException($"{MpiCollectiveCall.Name(call.Kind)} over axis {_layout.Description} failed: {_failure.Message}", _failure);
            }
        }
    }

    private void Complete()
    {
        _disagreement = Validate();
        _failure = null;
        if (_region.IsAborted)
        {
            _failure = new OperationCanceledException($"The SPMD region over {_region.Mesh} was aborted before this collective could run.");
        }
        else if (_disagreement is null)
        {
            try
            {
                Execute();
            }
            catch (Exception error) when (error is MpiException or NotSupportedException or InvalidOperationException or ArgumentException)
            {
                _failure = error;
            }
        }

        _arrived = 0;
        Array.Clear(_present);
        _generation++;
        Monitor.PulseAll(_lock);
    }

    private void WaitForOthers(int rank, long generation, MpiCollectiveKind kind)
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
                // Leave the round first, so a late participant never completes it with this one's buffers, and abort the
                // region so the other local participants are released now.
                int[] missing = [.. _layout.LocalRanks.Where(k => !_present[k])];
                var error = new TimeoutException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{MpiCollectiveCall.Name(kind)} over axis {_layout.Description} timed out after {_region.Timeout.TotalSeconds} s: rank{(missing.Length > 1 ? "s" : string.Empty)} {string.Join(", ", missing)} of {_layout.Size} ({string.Join(", ", missing.Select(k => _layout.Devices[k]))}) never arrived."));
                Withdraw(rank);
                _region.Abort(error, _layout.Devices[rank]);
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

    private string? Validate()
    {
        // Messages are built only when something disagrees, so an agreeing round allocates nothing.
        MpiCollectiveCall first = _calls[_layout.LocalRanks[0]];
        foreach (int k in _layout.LocalRanks)
        {
            MpiCollectiveCall c = _calls[k];
            if (c.Kind != first.Kind || c.ElementType != first.ElementType || c.InputLength != first.InputLength
                || c.OutputLength != first.OutputLength || c.Op != first.Op || c.Root != first.Root)
            {
                return Describe();
            }
        }

        return null;
    }

    private string? Describe()
    {
        return Disagreement("collective", static c => MpiCollectiveCall.Name(c.Kind))
            ?? Disagreement("element type", static c => c.ElementType?.Name ?? "none")
            ?? Disagreement("element count", static c => c.InputLength.ToString(CultureInfo.InvariantCulture))
            ?? Disagreement("output element count", static c => c.OutputLength.ToString(CultureInfo.InvariantCulture))
            ?? Disagreement("reduce op", static c => c.Kind == MpiCollectiveKind.AllReduce ? c.Op.ToString() : "none")
            ?? Disagreement("root", static c => c.Root.ToString(CultureInfo.InvariantCulture));
    }

    private string? Disagreement(string what, Func<MpiCollectiveCall, string> key)
    {
        string first = key(_calls[_layout.LocalRanks[0]]);
        if (_layout.LocalRanks.All(k => string.Equals(key(_calls[k]), first, StringComparison.Ordinal)))
        {
            return null;
        }

        IEnumerable<string> groups = _layout.LocalRanks
            .GroupBy(k => key(_calls[k]), StringComparer.Ordinal)
            .Select(g => $"rank{(g.Count() > 1 ? "s" : string.Empty)} {string.Join(", ", g)} {(g.Count() > 1 ? "have" : "has")} {g.Key}");
        return $"Participants of {MpiCollectiveCall.Name(_calls[_layout.LocalRanks[0]].Kind)} over axis {_layout.Description} disagree on the {what}: {string.Join("; ", groups)}. No buffer was changed.";
    }
}
