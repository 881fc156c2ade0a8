using System.Runtime.InteropServices;

namespace Artifex.Perf;

/// <summary>Everything one invocation measures.</summary>
[StructLayout(LayoutKind.Auto)]
internal readonly record struct PerfSettings(
    CollectiveKind Kind,
    string Provider,
    int Devices,
    long MinBytes,
    long MaxBytes,
    double StepFactor,
    int Iterations,
    int Warmup,
    ReduceOp Op,
    string ElementType,
    bool HostIssued,
    string? OutputPath,
    bool CompareMpi,
    double WarmupSeconds,
    Determinism Determinism = Determinism.RankOrdered);
