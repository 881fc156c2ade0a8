using System.Globalization;

namespace Artifex.Mpi;

/// <summary>
/// The collective watchdog: aborts the whole job when a collective stays in flight longer than <see cref="Timeout"/>,
/// which is what happens when a rank never joins it (it skipped the collective, or it is stuck elsewhere).
/// </summary>
/// <remarks>
/// <para>
/// One background thread per process times every collective between <see cref="Enter"/> and the scope's disposal;
/// <see cref="MpiCommunicator"/> guards each of its collectives this way. When one expires, the thread prints
/// <c>artifex-mpi: rank R: all_reduce over axis 'data' did not complete within 300 s: a rank never joined; aborting the job</c>
/// on stderr and calls <c>MPI_Abort</c> on the world with exit code <see cref="TimeoutExitCode"/>: <c>mpirun</c> then kills
/// every rank and exits with that code. Nested scopes are allowed; the oldest expired one is named.
/// </para>
/// <para>
/// The timeout is read from <c>ARTIFEX_MPI_COLLECTIVE_TIMEOUT_S</c> (<see cref="TimeoutVariable"/>), in seconds, on first
/// use; it defaults to <see cref="DefaultTimeout"/> (300 s) and <c>0</c> turns the watchdog off. Choose it longer than the
/// slowest legitimate collective, including the first one (connection set-up) and any time a rank spends computing
/// before it joins.
/// </para>
/// </remarks>
public static class MpiWatchdog
{
    /// <summary>The environment variable that sets the timeout in seconds (<c>0</c> = off).</summary>
    public const string TimeoutVariable = "ARTIFEX_MPI_COLLECTIVE_TIMEOUT_S";

    /// <summary>The exit code of a job the watchdog aborts.</summary>
    public const int TimeoutExitCode = 42;

    /// <summary>The timeout when <see cref="TimeoutVariable"/> is not set: 300 seconds.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(300);

    private static readonly Lock s_lock = new();
    private static CollectiveWatchdog? s_watchdog;

    /// <summary>
    /// Gets or sets the timeout. <see cref="TimeSpan.Zero"/> or <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>
    /// turns the watchdog off. Setting it overrides <see cref="TimeoutVariable"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">On get, before any set: <see cref="TimeoutVariable"/> is not a non-negative number.</exception>
    /// <exception cref="ArgumentOutOfRangeException">On set: the value is negative and not infinite.</exception>
    public static TimeSpan Timeout
    {
        get => Instance.Timeout;
        set
        {
            lock (s_lock)
            {
                if (s_watchdog is null)
                {
                    s_watchdog = new CollectiveWatchdog(value, OnExpired);
                }
                else
                {
                    s_watchdog.Timeout = value;
                }
            }
        }
    }

    private static CollectiveWatchdog Instance => Volatile.Read(ref s_watchdog) ?? Create();

    /// <summary>Marks a collective in flight until the returned scope is disposed.</summary>
    /// <param name="what">What is in flight, as the abort message should name it, e.g. <c>all_reduce over axis 'data'</c>.</param>
    /// <returns>The scope to dispose when the collective completes (unguarded while the watchdog is off).</returns>
    /// <exception cref="InvalidOperationException"><see cref="TimeoutVariable"/> is not a non-negative number.</exception>
    /// <example><code>using (MpiWatchdog.Enter("all_reduce over axis 'data'")) { communicator.AllReduce(...); }</code></example>
    public static MpiCollectiveScope Enter(string what) => Instance.Enter(what);

    /// <summary>Parses a <see cref="TimeoutVariable"/> value: unset or blank gives <see cref="DefaultTimeout"/>, <c>0</c> turns the watchdog off.</summary>
    /// <param name="text">The variable's value, or <see langword="null"/> when unset.</param>
    /// <returns>The timeout.</returns>
    /// <exception cref="InvalidOperationException">The value is not a finite non-negative number of seconds.</exception>
    internal static TimeSpan ParseTimeout(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return DefaultTimeout;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) || !double.IsFinite(seconds) || seconds < 0 || seconds > int.MaxValue)
        {
            throw new InvalidOperationException($"{TimeoutVariable} must be a number of seconds (0 turns the collective watchdog off), but is '{text}'.");
        }

        return TimeSpan.FromSeconds(seconds);
    }

    private static CollectiveWatchdog Create()
    {
        lock (s_lock)
        {
            s_watchdog ??= new CollectiveWatchdog(ParseTimeout(Environment.GetEnvironmentVariable(TimeoutVariable)), OnExpired);
            return s_watchdog;
        }
    }

    private static void OnExpired(string message) => MpiRuntime.Abort(TimeoutExitCode, message);
}
