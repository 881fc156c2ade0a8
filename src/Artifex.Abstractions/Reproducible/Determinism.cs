namespace Artifex;

/// <summary>What a floating-point sum promises about its bits.</summary>
public enum Determinism
{
    /// <summary>
    /// The default: each element is summed in rank order, so results are bitwise identical run to run for a fixed
    /// participant count, whatever the threads, chunking or SIMD width.
    /// </summary>
    RankOrdered = 0,

    /// <summary>
    /// <see cref="ReproducibleSum.Version"/>: a Sum or Mean depends only on the multiset of the values summed — not on the
    /// participant count, rank order, reduction tree, chunking, SIMD width or language — inside the window of
    /// <see cref="ReproducibleSum"/>. Single and Half only; integer sums are exact already (the option changes nothing);
    /// Max and Min give a canonical NaN; Double throws <see cref="NotSupportedException"/>.
    /// </summary>
    Reproducible = 1,
}
