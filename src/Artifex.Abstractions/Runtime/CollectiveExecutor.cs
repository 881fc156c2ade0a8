namespace Artifex.Runtime;

/// <summary>
/// How a provider runs a collective that every participant of a <see cref="Rendezvous"/> has agreed on: the one part of
/// the SPMD runtime a provider writes (CPU: a fused rank-order pass over parts the participants claim; MPI: the local
/// step and one MPI call; CUDA: one NCCL group). One executor serves one axis group of one region, round after round.
/// </summary>
public abstract class CollectiveExecutor
{
    /// <summary>Initializes an executor for a rendezvous.</summary>
    /// <param name="rendezvous">The rendezvous whose rounds this executor runs.</param>
    protected CollectiveExecutor(Rendezvous rendezvous)
    {
        ArgumentNullException.ThrowIfNull(rendezvous);
        Rendezvous = rendezvous;
    }

    /// <summary>Gets the rendezvous: the group, its local ranks and the round's calls.</summary>
    public Rendezvous Rendezvous { get; }

    /// <summary>
    /// Starts the round's collective. Called once per round by the last participant to arrive, after every call agreed and
    /// before any participant is released; the others are waiting. An exception reaches every participant of the round:
    /// a <see cref="CollectiveDisagreementException"/> as a disagreement (each gets an <see cref="ArgumentException"/> with
    /// its message; nothing may have changed), any other wrapped in an <see cref="InvalidOperationException"/>.
    /// </summary>
    /// <returns>True when each participant must then run <see cref="Participate"/> on its own thread.</returns>
    public abstract bool Start();

    /// <summary>
    /// Called instead of <see cref="Start"/> when this process's own participants disagree (or an input is outside the
    /// reproducible window): nothing runs, but an executor whose round also involves other processes must still meet them,
    /// so that they fail alike instead of waiting for this process. By the last participant to arrive, like Start.
    /// </summary>
    /// <param name="disagreement">The local disagreement's message.</param>
    public virtual void Refuse(string disagreement)
    {
    }

    /// <summary>
    /// Runs one participant's share of the round on its own thread, after <see cref="Start"/> returned true (e.g. claiming
    /// chunks, or work on the participant's own stream). Must not return before that participant's buffers are final.
    /// </summary>
    /// <param name="rank">The participant's rank in the group.</param>
    public virtual void Participate(int rank)
    {
    }
}
