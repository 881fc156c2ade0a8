namespace Artifex.Runtime;

/// <summary>A condition a thread waits for; a struct so that waiting allocates nothing.</summary>
public interface IWaitCondition
{
    /// <summary>Gets whether the waited-for state has been reached; called repeatedly, so it must be cheap and free of side effects.</summary>
    /// <returns>True when the wait is over.</returns>
    bool IsSatisfied();
}
