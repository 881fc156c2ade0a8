using System.Diagnostics;
using System.Globalization;

namespace Artifex.Mpi;

/// <summary>
/// Times the collectives in flight from one background thread, and reports the oldest one that outlives the timeout.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Enter"/> claims one of <see cref="Capacity"/> slots with a compare-and-swap and stores a timestamp: no
/// allocation and no lock on the hot path. Beyond <see cref="Capacity"/> concurrent collectives the extras go unguarded.
/// </para>
/// <para>
/// The thread polls every quarter of the timeout (between 10 ms and 1 s), so an expiry is reported between 1 and 1.25
/// timeouts after the collective began. It reports once; <see cref="MpiWatchdog"/>'s handler aborts the job.
/// </para>
/// </remarks>
internal sealed class CollectiveWatchdog : IDisposable
{
    /// <summary>How many collectives can be timed at once.</summary>
    public const int Capacity = 64;

    private readonly long[] _tokens = new long[Capacity];
    private readonly long[] _started = new long[Capacity];
    private readonly string?[] _what = new string?[Capacity];
    private readonly Action<string> _onExpired;
    private readonly Lock _startLock = new();
    private readonly ManualResetEventSlim _stop = new(false);
    private Thread? _thread;
    private long _sequence;
    private long _timeoutTicks;
    private TimeSpan _timeout;

    /// <summary>Initializes a new instance of the <see cref="CollectiveWatchdog"/> class.</summary>
    /// <param name="timeout">The timeout; <see cref="TimeSpan.Zero"/> or <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> turns the watchdog off.</param>
    /// <param name="onExpired">Called once, on the watchdog thread, with the message naming the oldest expired collective.</param>
    public CollectiveWatchdog(TimeSpan timeout, Action<string> onExpired)
    {
        ArgumentNullException.ThrowIfNull(onExpired);
        _onExpired = onExpired;
        Timeout = timeout;
    }

    /// <summary>Gets or sets the timeout; zero or infinite turns the watchdog off. Collectives already in flight use the new value.</summary>
    public TimeSpan Timeout
    {
        get => _timeout;
        set
        {
            if (value < TimeSpan.Zero && value != System.Threading.Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "The collective timeout must be positive, zero (off) or infinite (off).");
            }

            _timeout = value;
            Volatile.Write(ref _timeoutTicks, ToStopwatchTicks(value));
        }
    }

    /// <summary>Gets a value indicating whether the watchdog has reported an expired collective.</summary>
    public bool HasExpired { get; private set; }

    /// <summary>Gets how many guarded collectives are in flight.</summary>
    public int InFlight => _started.Count(static started => started != 0);

    /// <summary>Marks a collective in flight until the returned scope is disposed.</summary>
    /// <param name="what">What is in flight, e.g. <c>all_reduce over axis 'data'</c>.</param>
    /// <returns>The scope; the default (unguarded) one when the watchdog is off or all slots are taken.</returns>
    public MpiCollectiveScope Enter(string what)
    {
        ArgumentNullException.ThrowIfNull(what);
        if (Volatile.Read(ref _timeoutTicks) <= 0)
        {
            return default;
        }

        EnsureStarted();
        long token = Interlocked.Increment(ref _sequence);
        for (int i = 0; i < Capacity; i++)
        {
            int slot = (int)((token + i) % Capacity);
            if (Interlocked.CompareExchange(ref _tokens[slot], token, 0) == 0)
            {
                _what[slot] = what;
                Volatile.Write(ref _started[slot], Math.Max(1, Stopwatch.GetTimestamp()));
                return new MpiCollectiveScope(this, slot, token);
            }
        }

        return default;
    }

    /// <summary>Stops the thread (for tests; the process-wide watchdog lives as long as the process).</summary>
    public void Dispose()
    {
        _stop.Set();
        _thread?.Join(TimeSpan.FromSeconds(5));
    }

    /// <summary>Releases a slot; a stale copy of a released scope finds another token there and does nothing.</summary>
    internal void Exit(int slot, long token)
    {
        // A negative token marks the slot as being released, so that no Enter claims it half-cleared.
        if (Interlocked.CompareExchange(ref _tokens[slot], -token, token) != token)
        {
            return;
        }

        Volatile.Write(ref _started[slot], 0);
        _what[slot] = null;
        Volatile.Write(ref _tokens[slot], 0);
    }

    /// <summary>Finds the oldest collective in flight longer than the timeout at <paramref name="now"/>.</summary>
    /// <param name="now">A <see cref="Stopwatch.GetTimestamp"/> value.</param>
    /// <returns>The message naming it, or <see langword="null"/> when none has expired.</returns>
    internal string? Scan(long now)
    {
        long timeout = Volatile.Read(ref _timeoutTicks);
        if (timeout <= 0)
        {
            return null;
        }

        int oldest = -1;
        long oldestStart = long.MaxValue;
        for (int slot = 0; slot < Capacity; slot++)
        {
            long started = Volatile.Read(ref _started[slot]);
            if (started != 0 && now - started > timeout && started < oldestStart)
            {
                oldest = slot;
                oldestStart = started;
            }
        }

        // Read the text, then check that the same collective still holds the slot: it may have completed meanwhile.
        string? what = oldest < 0 ? null : _what[oldest];
        if (what is null || Volatile.Read(ref _started[oldest]) != oldestStart)
        {
            return null;
        }

        string seconds = _timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        return $"{what} did not complete within {seconds} s: a rank never joined; aborting the job";
    }

    private static long ToStopwatchTicks(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return 0;
        }

        double ticks = timeout.TotalSeconds * Stopwatch.Frequency;
        return ticks >= long.MaxValue / 2 ? long.MaxValue / 2 : Math.Max(1, (long)ticks);
    }

    private void EnsureStarted()
    {
        if (Volatile.Read(ref _thread) is not null)
        {
            return;
        }

        lock (_startLock)
        {
            if (_thread is null)
            {
                var thread = new Thread(Run) { IsBackground = true, Name = "artifex-mpi watchdog" };
                thread.Start();
                Volatile.Write(ref _thread, thread);
            }
        }
    }

    private void Run()
    {
        while (!_stop.Wait(PollInterval()))
        {
            string? message = Scan(Stopwatch.GetTimestamp());
            if (message is not null)
            {
                HasExpired = true;
                _onExpired(message);
                return;
            }
        }
    }

    private TimeSpan PollInterval()
    {
        TimeSpan timeout = _timeout;
        if (timeout <= TimeSpan.Zero)
        {
            return TimeSpan.FromSeconds(1);
        }

        TimeSpan quarter = timeout / 4;
        return quarter < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10)
            : quarter > TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1)
            : quarter;
    }
}
