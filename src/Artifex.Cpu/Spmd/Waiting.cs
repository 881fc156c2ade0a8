using System.Diagnostics;

namespace Artifex.Cpu.Spmd;

/// <summary>
/// Spin, then yield, then block: the wait policy of every CPU rendezvous. Spinning hands work over in tens of
/// nanoseconds when every participant has a core; when participants outnumber cores the spin is cut short so
/// the threads that still have work get the cores.
/// </summary>
internal static class Waiting
{
    private const int BlockSliceMilliseconds = 20;

    /// <summary>Waits until the condition holds. Returns false when the deadline passes; throws when the region aborts.</summary>
    public static bool Until<TCondition>(ref TCondition condition, WaitSignal signal, bool oversubscribed, long deadline, CpuSpmdRegion? region)
        where TCondition : struct, IWaitCondition
    {
        int spins = oversubscribed ? 20 : 4000;
        for (int i = 0; i < spins; i++)
        {
            if (condition.IsSatisfied())
            {
                return true;
            }

            Thread.SpinWait(4);
        }

        int yields = oversubscribed ? 400 : 100;
        for (int i = 0; i < yields; i++)
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
