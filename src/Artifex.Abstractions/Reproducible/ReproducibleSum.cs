namespace Artifex;

/// <summary>
/// The constants of reproducible summation, version "PR3 v2". They are part of the bitwise contract: results computed
/// with another version may differ.
/// </summary>
/// <remarks>
/// <para>
/// Each element keeps three double accumulators with fixed, data-independent bin boundaries at 2^46, 2^8 and 2^−30
/// (pre-rounding in the manner of Demmel and Nguyen's ReproBLAS, with a fixed window). Every input is split exactly into
/// three slices, one per level, so each level sums exact multiples of its unit: the state is integer arithmetic done with
/// floating-point adds, and any order, split or tree gives the same bits. The final value is
/// <c>((a₀ + a₁) + a₂)</c> in double, scaled (for a mean) and rounded once to the output type. A deposit adds each level's
/// slice with a sticky low bit (so no rounding depends on a tie, nor on what the level already holds) and passes the exact
/// remainder to the next level, so the state is the exact sum of the inputs' parts above 2^−82. The result is
/// <b>faithful</b> (one of the two floats around the exact sum; an exact sum is returned exactly, zero as +0) and correctly
/// rounded for the vast majority of elements, but not always: the final double → float rounding can land 1 ulp away
/// (about 1 in 4,000 sums of values of widely different magnitude). The full specification is in docs/REPRODUCIBLE.md.
/// </para>
/// <para>
/// The window: inputs with |x| ≤ 2^30 (larger values and ±Inf are rejected with the element and value named; NaN
/// propagates as the canonical NaN); at most 2^14 = 16,384 contributions per element per reduction, summed over merged
/// states; parts of a contribution below 2^−82 are dropped (deterministically).
/// </para>
/// <para>
/// End to end, bitwise identical training for any device count also needs identical contributions: fixed-size
/// microbatches whose gradients are deposited one by one into a <see cref="ReproducibleSumState"/> (never summed in
/// float first), then merged across devices and finalized once — a mean scaled by the global contribution count, never
/// divided per device.
/// </para>
/// </remarks>
public static class ReproducibleSum
{
    /// <summary>The version of the scheme and its constants.</summary>
    public const string Version = "PR3 v2";

    /// <summary>The largest magnitude a contribution may have: 2^30.</summary>
    public const float MaxMagnitude = 1073741824f;

    /// <summary>The most contributions per element in one reduction, summed over every merged state: 2^14.</summary>
    public const int MaxDeposits = 1 << 14;

    /// <summary>The exponents E of the three levels; level j keeps a bias of 1.5·2^E and a unit of 2^(E−52).</summary>
    public static ReadOnlySpan<int> LevelExponents => [46, 8, -30];

    /// <summary>The bias of level 0, 1.5·2^46.</summary>
    public const double Bias0 = 1.5 * 70368744177664.0;

    /// <summary>The bias of level 1, 1.5·2^8.</summary>
    public const double Bias1 = 1.5 * 256.0;

    /// <summary>The bias of level 2, 1.5·2^−30.</summary>
    public const double Bias2 = 1.5 / 1073741824.0;
}
