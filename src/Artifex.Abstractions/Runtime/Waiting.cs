using System.Diagnostics;

namespace Artifex.Runtime;

/// <summary>
/// Spin, then yield, then block: the wait of every CPU rendezvous, shaped by a <see cref="WaitPolicy"/>.
/// </summary>
public static class Waiting
{
    private const int BlockSliceMilliseconds = 20;

    /// <summary>Waits until the condition holds. Returns false when the deadline passes; throws when the region aborts.</summary>
    /// <typeparam name="TCondition">The condition type (a struct: waiting allocates nothing).</typeparam>
    /// <param name="condition">The condition.</param>
    /// <param name="signal">The signal that notifiers pulse.</param>
    /// <param name="policy">How long to spin and yield before blocking.</param>
    /// <param name="deadline">A <see cref="Stopwatch"/> timestamp, or <see cref="long.MaxValue"/> for none.</param>
    /// <param name="region">A region whose abort ends the wait with its exception, or <see langword="null"/>.</param>
    /// <returns>True when the condition holds; false when the deadline passed first.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="region"/> was aborted.</exception>
    public static bool Until<TCondition>(ref TCondition condition, WaitSignal signal, WaitPolicy policy, long deadline, SpmdRegion? region)
        where TCondition : struct, IWaitCondition
    {
        for (int i = 0; i < policy.Spins; i++)
        {
            if (condition.IsSatisfied())
            {
                return true;
            }

            Thread.SpinWait(4);
        }

        long yieldUntil = Stopwatch.GetTimestamp() + policy.YieldTicks;
        while (Stopwatch.GetTimestamp() < yieldUntil)
        {
            if (condition.IsSatisfied())
            {
                return true;
            }

            region?.ThrowIfAborted();
            Thread.Yield();
        }

        while (!condition.IsSatisfied())
        {
            region?.ThrowIfAborted();
            long remaining = deadline - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return condition.IsSatisfied();
            }

            int milliseconds = (int)Math.Min(BlockSliceMilliseconds, Math.Max(1, remaining * 1000 / Stopwatch.Frequency));
            signal.Block(ref condition, milliseconds);
        }

        return true;
    }

    /// <summary>Converts a timeout into a deadline for <see cref="Until{TCondition}"/>.</summary>
    /// <param name="timeout">The timeout, or <see cref="Timeout.InfiniteTimeSpan"/>.</param>
    /// <returns>The deadline.</returns>
    public static long Deadline(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
}
