namespace Artifex;

/// <summary>
/// The constants of reproducible summation, version "PR3 v1". They are part of the bitwise contract: results computed
/// with another version may differ.
/// </summary>
/// <remarks>
/// <para>
/// Each element keeps three double accumulators with fixed, data-independent bin boundaries at 2^46, 2^8 and 2^−30
/// (pre-rounding in the manner of Demmel and Nguyen's ReproBLAS, with a fixed window). Every input is split exactly into
/// three slices, one per level, so each level sums exact multiples of its unit: the state is integer arithmetic done with
/// floating-point adds, and any order, split or tree gives the same bits. The final value is
/// <c>((a₀ + a₁) + a₂)</c> in double, scaled (for a mean) and rounded once to the output type: on typical data within 1 ulp
/// and correctly rounded for the vast majority of elements. Version 1 carries each deposit's sticky bit (about 2^−52·|x|)
/// into the lower levels, as the scheme's reference does, so under heavy cancellation it is not faithful (3 − 1 − 2 gives
/// −2^−52); results stay reproducible. An exact residual would change the bits and will be a new version.
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
    public const string Version = "PR3 v1";

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
