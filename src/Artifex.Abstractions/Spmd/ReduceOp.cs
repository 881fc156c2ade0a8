namespace Artifex;

/// <summary>How a collective combines the participants' values.</summary>
/// <remarks><see cref="Mean"/> is 0, the default of artifex's <c>reduce_type="mean"</c>.</remarks>
public enum ReduceOp
{
    /// <summary>The sum divided by the participant count (JAX <c>pmean</c>): the sum in rank order, then one division.</summary>
    Mean = 0,

    /// <summary>The sum, added in rank order (JAX <c>psum</c>).</summary>
    Sum = 1,

    /// <summary>The maximum (JAX <c>pmax</c>); NaN propagates.</summary>
    Max = 2,

    /// <summary>The minimum (JAX <c>pmin</c>); NaN propagates.</summary>
    Min = 3,
}
