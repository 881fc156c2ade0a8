using System.Runtime.InteropServices;

namespace Artifex.Perf;

/// <summary>
/// One size of a run: the nccl-tests columns, out of place and in place, plus the bound over the same working set and the
/// MPI peer.
/// </summary>
/// <remarks>
/// The out-of-place figures keep the names they had when they were the only ones (<see cref="TimeMicros"/>,
/// <see cref="AlgBandwidth"/>, <see cref="BusBandwidth"/>, <see cref="Wrong"/>), so readers of older JSON and CSV files
/// still find them; the in-place figures are the <c>InPlace</c> fields beside them. A mode that is not measured has NaN
/// figures and no wrong elements (printed <c>n/a</c>).
/// </remarks>
[StructLayout(LayoutKind.Auto)]
internal readonly record struct ResultRow(
    long Bytes,
    long Count,
    string Type,
    string RedOp,
    double TimeMicros,
    double AlgBandwidth,
    double BusBandwidth,
    long Wrong,
    double BoundMicros,
    double? MpiMicros,
    double InPlaceTimeMicros = double.NaN,
    double InPlaceAlgBandwidth = double.NaN,
    double InPlaceBusBandwidth = double.NaN,
    long InPlaceWrong = 0)
{
    /// <summary>Gets the out-of-place time as a percentage of the bound (NaN where either is not measured).</summary>
    public double PercentOfBound => 100 * BoundMicros / TimeMicros;

    /// <summary>Gets the in-place time as a percentage of the bound (NaN where either is not measured).</summary>
    public double InPlacePercentOfBound => 100 * BoundMicros / InPlaceTimeMicros;

    /// <summary>Gets the wrong elements of both modes.</summary>
    public long TotalWrong => Wrong + InPlaceWrong;

    /// <summary>
    /// Gets a value indicating whether a time (out of place or in place) beats the memory-traffic bound (above 100 %),
    /// which no correct measurement can: the timer was too coarse for the run, or the machine was loaded while the bound
    /// was measured. Such a row is flagged, never reported as a valid figure.
    /// </summary>
    public bool ExceedsBound => PercentOfBound > 100 || InPlacePercentOfBound > 100;

    /// <summary>Gets a value indicating whether the out-of-place figures were measured.</summary>
    public bool HasOutOfPlace => !double.IsNaN(TimeMicros);

    /// <summary>Gets a value indicating whether the in-place figures were measured.</summary>
    public bool HasInPlace => !double.IsNaN(InPlaceTimeMicros);
}
