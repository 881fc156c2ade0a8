namespace Artifex.Runtime;

/// <summary>The collective a participant arrives at a <see cref="Rendezvous"/> for.</summary>
public enum CollectiveKind
{
    /// <summary>Every participant receives the reduction of all inputs (JAX <c>psum</c>, <c>pmean</c>, <c>pmax</c>, <c>pmin</c>).</summary>
    AllReduce = 0,

    /// <summary>Every participant receives all inputs, concatenated in rank order (JAX <c>all_gather</c>).</summary>
    AllGather = 1,

    /// <summary>Each participant receives its rank's block of the sum (JAX <c>psum_scatter</c>, tiled).</summary>
    ReduceScatter = 2,

    /// <summary>Every participant receives the root's input.</summary>
    Broadcast = 3,

    /// <summary>Nothing moves; every participant waits for the others.</summary>
    Barrier = 4,
}
