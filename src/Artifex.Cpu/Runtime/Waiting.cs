using System.Diagnostics;

namespace Artifex.Cpu.Runtime;

/// <summary>
/// Spin, then yield, then block: the wait of every CPU rendezvous, shaped by a <see cref="WaitPolicy"/>.
/// </summary>
internal static class Waiting
{
    private const int BlockSliceMilliseconds = 20;

    /// <summary>Waits until the condition holds. Returns false when the deadline passes; throws when the region aborts.</summary>
    public static bool Until<TCondition>(ref TCondition condition, WaitSignal signal, WaitPolicy policy, long deadline, CpuSpmdRegion? region)
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

    public static long Deadline(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
}
