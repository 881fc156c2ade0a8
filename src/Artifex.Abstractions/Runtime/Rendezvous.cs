using System.Globalization;

namespace Artifex.Runtime;

/// <summary>
/// Where this process's participants of one axis group meet for each collective of a region. A round: every
/// participant publishes its <see cref="CollectiveCall"/> and arrives; the last to arrive checks that all calls agree
/// and starts the provider's <see cref="CollectiveExecutor"/>; then everyone is released, runs its share if the
/// executor asks for one, and returns. Nothing runs before everyone has arrived and agreed, so a participant that
/// fails, disagrees or never arrives releases the others with an exception and leaves every buffer unchanged.
/// </summary>
/// <remarks>
/// Arrivals are counted cumulatively: round r completes when the count reaches (r + 1) · participants. The count is
/// never reset, so a participant can withdraw (abort, timeout) with a compare-and-swap for as long as the round is not
/// complete, and can tell for sure when it is too late to leave.
/// </remarks>
public sealed class Rendezvous
{
    private readonly CollectiveCall[] _calls;
    private readonly long[] _arrivedRound;
    private readonly int _participants;
    private readonly CollectiveExecutor _executor;
    private PaddedCounter _arrived;
    private PaddedCounter _generation;
    private string? _disagreement;
    private Exception? _failure;
    private bool _participate;

    internal Rendezvous(SpmdRegion region, AxisGroup group, Func<Rendezvous, CollectiveExecutor> createExecutor)
    {
        Region = region;
        Group = group;
        Devices = [.. Enumerable.Range(0, group.Size).Select(r => group.Mesh.Devices[group.GetDeviceIndex(r)])];
        LocalRanks = [.. Enumerable.Range(0, group.Size).Where(r => region.IsLocal(Devices[r]))];
        Description = group.ToString();
        _calls = new CollectiveCall[group.Size];
        _arrivedRound = new long[group.Size];
        _participants = LocalRanks.Length;
        _executor = createExecutor(this);
    }

    /// <summary>Gets the region whose rounds this rendezvous runs now (a rendezvous serves the next region over the same mesh).</summary>
    public SpmdRegion Region { get; private set; }

    /// <summary>Gets the axis group (as resolved by its first participant).</summary>
    public AxisGroup Group { get; }

    /// <summary>Gets the group's devices in rank order.</summary>
    public IReadOnlyList<Device> Devices { get; }

    /// <summary>Gets the ranks whose participants run in this process, ascending.</summary>
    public int[] LocalRanks { get; }

    /// <summary>Gets the axis names as messages show them, e.g. <c>'data'</c>.</summary>
    public string Description { get; }

    /// <summary>Gets the current round's calls by rank (only the local ranks' are set); valid during the round.</summary>
    public ReadOnlySpan<CollectiveCall> Calls => _calls;

    /// <summary>Gets the call every participant of the current round agreed on (the lowest local rank's).</summary>
    public ref readonly CollectiveCall Agreed => ref _calls[LocalRanks[0]];

    /// <summary>
    /// Hands the rendezvous to the next region over the same mesh. Only between regions that completed without failure:
    /// the arrival count then stands at a whole number of rounds, so counting goes on where it stopped.
    /// </summary>
    internal void Rebind(SpmdRegion region) => Region = region;

    /// <summary>Arrives with this participant's call and returns when the collective has run for it.</summary>
    /// <param name="rank">The participant's rank in the group.</param>
    /// <param name="call">Its call.</param>
    /// <exception cref="ArgumentException">The participants disagree; nothing ran.</exception>
    /// <exception cref="TimeoutException">A participant never arrived; the region is aborted.</exception>
    /// <exception cref="OperationCanceledException">The region was aborted by another participant's failure.</exception>
    /// <exception cref="InvalidOperationException">The executor failed; its exception is the inner one.</exception>
    internal void Run(int rank, in CollectiveCall call)
    {
        if (_participants == 1)
        {
            // The only local participant of its group (one device per process) has nobody to meet: no counters and no
            // wake-up, which cost a tenth of a cross-process 4-byte all-reduce's own path. The participant checked for an
            // abort just before arriving.
            _calls[rank] = call;
            StartRound(validate: call.WindowIndex >= 0);
        }
        else
        {
            long round = Volatile.Read(ref _generation.Value);
            long target = (round + 1) * _participants;
            _calls[rank] = call;
            Volatile.Write(ref _arrivedRound[rank], round + 1);
            if (Interlocked.Increment(ref _arrived.Value) == target)
            {
                StartRound(validate: true);
                Interlocked.Increment(ref _generation.Value);
                Region.Signal.Notify();
            }
            else
            {
                WaitForRelease(rank, round, target, call.Kind);
            }
        }

        if (_disagreement is not null)
        {
            throw new ArgumentException(_disagreement, nameof(call));
        }

        if (_failure is not null)
        {
            throw _failure is OperationCanceledException canceled
                ? new OperationCanceledException(canceled.Message, canceled.InnerException)
                : Failed(call.Kind, _failure);
        }

        if (_participate)
        {
            try
            {
                _executor.Participate(rank);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                throw Failed(call.Kind, error);
            }
        }
    }

    /// <summary>
    /// Checks the round's calls and starts the executor; by the last participant to arrive, before anyone is released.
    /// Nothing here may escape: the others wait for this round to end, so any failure becomes the round's result.
    /// </summary>
    private void StartRound(bool validate)
    {
        _disagreement = null;
        _failure = null;
        _participate = false;
        try
        {
            _disagreement = validate ? Validate() : null;
            if (_disagreement is not null)
            {
                _executor.Refuse(_disagreement);
                return;
            }

            if (Region.IsAborted)
            {
                // A participant failed meanwhile: its buffers may be gone, so nothing runs.
                _failure = new OperationCanceledException(Region.AbortedMessage, Region.Failure);
                return;
            }

            _participate = _executor.Start();
        }
        catch (CollectiveDisagreementException disagreement)
        {
            // An executor that checks agreement beyond this process (participants in other processes) reports it so.
            _disagreement = disagreement.Message;
        }
        catch (Exception error)
        {
            // Every participant of the round gets the failure, not only the one whose thread ran it.
            _failure = error;
        }
    }

    private InvalidOperationException Failed(CollectiveKind kind, Exception error) =>
        new($"{CollectiveCall.Name(kind)} over axis {Description} failed: {error.Message}", error);

    /// <summary>
    /// Waits for the last participant. On abort or timeout the participant leaves only if it can withdraw its arrival;
    /// if the round is already complete, the others may be using its buffers, so it stays until the round is over.
    /// </summary>
    private void WaitForRelease(int rank, long round, long target, CollectiveKind kind)
    {
        var released = new GenerationPassed(this, round);
        bool done;
        try
        {
            done = Waiting.Until(ref released, Region.Signal, Region.WaitPolicy, Waiting.Deadline(Region.Timeout), Region);
        }
        catch (OperationCanceledException)
        {
            if (TryWithdraw(target))
            {
                throw;
            }

            done = false;
        }

        if (done)
        {
            return;
        }

        // The deadline passed. Leave if the round is still incomplete, whether or not another waiter that timed out at the
        // same moment aborted the region first: a waiter that stays must be sure the last participant has arrived.
        if (TryWithdraw(target))
        {
            Region.ThrowIfAborted();
            throw Region.Abort(TimedOut(kind, round), Devices[rank]);
        }

        Waiting.Until(ref released, Region.Signal, Region.WaitPolicy, long.MaxValue, region: null);
    }

    private bool TryWithdraw(long target)
    {
        while (true)
        {
            long arrived = Volatile.Read(ref _arrived.Value);
            if (arrived >= target)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _arrived.Value, arrived - 1, arrived) == arrived)
            {
                return true;
            }
        }
    }

    private TimeoutException TimedOut(CollectiveKind kind, long round)
    {
        int[] missing = [.. LocalRanks.Where(k => Volatile.Read(ref _arrivedRound[k]) != round + 1)];
        string devices = string.Join(", ", missing.Select(k => Devices[k].ToString()));
        return new TimeoutException(string.Create(
            CultureInfo.InvariantCulture,
            $"{CollectiveCall.Name(kind)} over axis {Description} timed out after {Region.Timeout.TotalSeconds} s: rank{(missing.Length > 1 ? "s" : string.Empty)} {string.Join(", ", missing)} of {Group.Size} ({devices}) never arrived."));
    }

    private string? Validate()
    {
        ref readonly CollectiveCall first = ref Agreed;
        if (_participants > 1)
        {
            bool agree = true;
            foreach (int k in LocalRanks)
            {
                agree &= _calls[k].Agrees(first);
            }

            if (!agree)
            {
                return Describe();
            }
        }

        // A participant's input outside the reproducible window fails the round for everyone (checked apart from the
        // agreement: a provider without its own reproducible sums meets with a state all-reduce that carries the window).
        foreach (int k in LocalRanks)
        {
            if (_calls[k].WindowIndex >= 0)
            {
                return $"Reproducible {CollectiveCall.Name(first.Kind)} over axis {Description}: rank {k}'s "
                    + ErrorMessages.OutsideReproducibleWindow("input", _calls[k].WindowIndex, _calls[k].WindowValue);
            }
        }

        // Messages are built only when something is wrong, so a valid round allocates nothing.
        return null;
    }

    private string? Describe()
    {
        return Disagreement("collective", static c => CollectiveCall.Name(c.Kind))
            ?? Disagreement("element type", static c => c.ElementType?.Name ?? "none")
            ?? Disagreement("element count", static c => c.InputLength.ToString(CultureInfo.InvariantCulture))
            ?? Disagreement("output element count", static c => c.OutputLength.ToString(CultureInfo.InvariantCulture))
            ?? Disagreement("shape", static c => c.InputShape.IsDefault ? "none" : Python.Shape(c.InputShape.AsSpan()))
            ?? Disagreement("output shape", static c => c.OutputShape.IsDefault ? "none" : Python.Shape(c.OutputShape.AsSpan()))
            ?? Disagreement("reduce op", static c => c.Kind == CollectiveKind.AllReduce ? c.Op.ToString() : "none")
            ?? Disagreement("root", static c => c.Root.ToString(CultureInfo.InvariantCulture))
            ?? Disagreement("determinism", static c => c.Reproducible ? "Reproducible" : "RankOrdered");
    }

    private string? Disagreement(string what, Func<CollectiveCall, string> key)
    {
        string first = key(Agreed);
        if (LocalRanks.All(k => string.Equals(key(_calls[k]), first, StringComparison.Ordinal)))
        {
            return null;
        }

        return CollectiveSignature.Disagreement(
            CollectiveCall.Name(Agreed.Kind),
            Description,
            what,
            [.. LocalRanks.Select(static k => $"rank {k}")],
            [.. LocalRanks.Select(k => key(_calls[k]))]);
    }

    private readonly struct GenerationPassed(Rendezvous owner, long round) : IWaitCondition
    {
        public bool IsSatisfied() => Volatile.Read(ref owner._generation.Value) != round;
    }
}
