using System.Runtime.InteropServices;

namespace Artifex.Perf;

/// <summary>One size of a run: the nccl-tests columns plus the bound over the same working set and the MPI peer.</summary>
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
    double? MpiMicros)
{
    public double PercentOfBound => 100 * BoundMicros / TimeMicros;

    /// <summary>
    /// Gets a value indicating whether the time beats the memory-traffic bound (above 100 %), which no correct measurement
    /// can: the timer was too coarse for the run, or the machine was loaded while the bound was measured. Such a row is
    /// flagged, never reported as a valid figure.
    /// </summary>
    public bool ExceedsBound => PercentOfBound > 100;
}
