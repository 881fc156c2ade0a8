using System.Runtime.InteropServices;
using Artifex.Runtime;

namespace Artifex;

/// <summary>
/// A collective started without waiting (<see cref="SpmdContext.StartAllReduce"/>, <see cref="Collectives.StartAllReduceInPlace"/>
/// and friends): the participant goes on computing while the collective runs, and <see cref="Wait"/>s before it reads the
/// output or writes the input. A plain value: starting and waiting allocate nothing.
/// </summary>
/// <remarks>
/// <para>
/// A participant's started collectives run one after another, in the order it started them, and meet the other
/// participants' in that order: every participant must start the same collectives in the same order (as NCCL requires).
/// A mismatch is an error, never a hang: collectives that disagree fail every participant with the disagreement, and one
/// that never meets its partners times out after <see cref="DeviceProvider.CollectiveTimeout"/>.
/// </para>
/// <para>
/// A blocking collective first waits for the participant's started ones, so mixing both keeps the order. When the body
/// returns, the region waits for whatever is still running; a failure nobody waited for then fails the participant.
/// </para>
/// </remarks>
[StructLayout(LayoutKind.Auto)]
public readonly struct CollectiveRequest : IEquatable<CollectiveRequest>
{
    private readonly CommunicationLane? _lane;
    private readonly Task? _task;
    private readonly long _ticket;

    internal CollectiveRequest(CommunicationLane lane, long ticket)
    {
        _lane = lane;
        _ticket = ticket;
    }

    private CollectiveRequest(Task task)
    {
        _task = task;
    }

    /// <summary>Gets a request that is already complete (what a synchronous fallback returns).</summary>
    public static CollectiveRequest Completed => default;

    /// <summary>Gets a value indicating whether the collective has finished (successfully or not).</summary>
    public bool IsCompleted => _task?.IsCompleted ?? (_lane is null || _lane.IsCompleted(_ticket));

    /// <summary>Gets when the collective finished, as a <see cref="System.Diagnostics.Stopwatch"/> timestamp; 0 when not known.</summary>
    internal long FinishedTimestamp => _lane?.FinishedAt(_ticket) ?? 0;

    /// <summary>Waits until the collective has finished, and rethrows its failure, if any.</summary>
    /// <exception cref="ArgumentException">The participants disagreed on the collective; no buffer changed.</exception>
    /// <exception cref="TimeoutException">A participant never started the matching collective.</exception>
    /// <exception cref="OperationCanceledException">The region was aborted by another participant's failure.</exception>
    /// <exception cref="InvalidOperationException">The provider's collective failed (the cause is the inner exception).</exception>
    public void Wait()
    {
        if (_task is not null)
        {
            _task.GetAwaiter().GetResult();
            return;
        }

        _lane?.Wait(_ticket);
    }

    /// <summary>
    /// Makes a request that completes with a task: for an <see cref="Distributed.ICollectives"/> of your own (a test double
    /// that adds a link's latency, another engine). The built-in collectives never allocate one.
    /// </summary>
    /// <param name="completion">Completes when the collective has; its exception is the collective's failure.</param>
    /// <returns>The request.</returns>
    public static CollectiveRequest FromTask(Task completion)
    {
        ArgumentNullException.ThrowIfNull(completion);
        return new CollectiveRequest(completion);
    }

    /// <summary>Compares two requests.</summary>
    /// <param name="left">The first.</param>
    /// <param name="right">The second.</param>
    /// <returns>True when both name the same collective.</returns>
    public static bool operator ==(CollectiveRequest left, CollectiveRequest right) => left.Equals(right);

    /// <summary>Compares two requests.</summary>
    /// <param name="left">The first.</param>
    /// <param name="right">The second.</param>
    /// <returns>True when they name different collectives.</returns>
    public static bool operator !=(CollectiveRequest left, CollectiveRequest right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(CollectiveRequest other) => ReferenceEquals(_lane, other._lane) && ReferenceEquals(_task, other._task) && _ticket == other._ticket;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is CollectiveRequest other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_lane, _task, _ticket);
}
