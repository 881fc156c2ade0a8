using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Artifex.Runtime;

/// <summary>How long a waiter spins and yields before it blocks.</summary>
/// <param name="Spins">Busy-wait iterations: cheap hand-offs when every waiting thread has its own core.</param>
/// <param name="YieldTicks">How long to keep yielding (Stopwatch ticks) before blocking.</param>
[StructLayout(LayoutKind.Auto)]
public readonly record struct WaitPolicy(int Spins, long YieldTicks)
{
    /// <summary>
    /// Participants of a collective, each with a core: spin, then yield for up to 1 ms. Blocking costs a futex
    /// wake-up per waiter (5–30 µs here), which would dominate a small collective.
    /// </summary>
    public static WaitPolicy Collective { get; } = new(4000, Stopwatch.Frequency / 1000);

    /// <summary>Participants that outnumber the cores: no spinning (the thread that must arrive needs the core), yield for up to 1 ms.</summary>
    public static WaitPolicy OversubscribedCollective { get; } = new(0, Stopwatch.Frequency / 1000);

    /// <summary>Threads with nothing to do (idle workers, a caller waiting for a region): block almost at once so they leave the cores to the participants.</summary>
    public static WaitPolicy Idle { get; } = new(20, Stopwatch.Frequency / 50_000);

    /// <summary>Gets the collective policy for a region with or without more participants than cores.</summary>
    /// <param name="oversubscribed">Whether participants outnumber the cores.</param>
    /// <returns>The policy.</returns>
    public static WaitPolicy ForCollective(bool oversubscribed) => oversubscribed ? OversubscribedCollective : Collective;
}
