namespace Artifex.Runtime;

/// <summary>
/// Wakes threads blocked in <see cref="Waiting.Until{TCondition}"/>. A notifier changes the shared state with an
/// interlocked operation and then calls <see cref="Notify"/>, which takes the lock only when someone is blocked.
/// </summary>
public sealed class WaitSignal
{
    private readonly object _gate = new();
    private int _waiters;

    /// <summary>Wakes every blocked waiter; call it after changing the state their conditions read.</summary>
    public void Notify()
    {
        if (Volatile.Read(ref _waiters) != 0)
        {
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Blocks for up to <paramref name="milliseconds"/> unless the condition already holds.</summary>
    /// <typeparam name="TCondition">The condition type.</typeparam>
    /// <param name="condition">The condition.</param>
    /// <param name="milliseconds">The longest block.</param>
    public void Block<TCondition>(ref TCondition condition, int milliseconds)
        where TCondition : struct, IWaitCondition
    {
        // The increment is a full fence: either the notifier sees a waiter and pulses under the lock, or this
        // thread sees the new state below; a wake-up cannot be lost between the check and the wait.
        Interlocked.Increment(ref _waiters);
        try
        {
            lock (_gate)
            {
                if (!condition.IsSatisfied())
                {
                    Monitor.Wait(_gate, milliseconds);
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiters);
        }
    }
}
