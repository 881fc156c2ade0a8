using System.Runtime.InteropServices;

namespace Artifex.Distributed;

/// <summary>The scope <see cref="GradientReducer.NoSync"/> returns: while it is open, ready gradients accumulate without communication.</summary>
[StructLayout(LayoutKind.Auto)]
public readonly struct GradientAccumulationScope : IDisposable, IEquatable<GradientAccumulationScope>
{
    private readonly GradientReducer? _reducer;

    internal GradientAccumulationScope(GradientReducer reducer) => _reducer = reducer;

    /// <summary>Compares two scopes.</summary>
    /// <param name="left">The first.</param>
    /// <param name="right">The second.</param>
    /// <returns>True when both belong to the same reducer.</returns>
    public static bool operator ==(GradientAccumulationScope left, GradientAccumulationScope right) => left.Equals(right);

    /// <summary>Compares two scopes.</summary>
    /// <param name="left">The first.</param>
    /// <param name="right">The second.</param>
    /// <returns>True when they belong to different reducers.</returns>
    public static bool operator !=(GradientAccumulationScope left, GradientAccumulationScope right) => !left.Equals(right);

    /// <summary>Closes the scope: the next micro-step's ready gradients are reduced.</summary>
    public void Dispose() => _reducer?.EndNoSync();

    /// <inheritdoc/>
    public bool Equals(GradientAccumulationScope other) => ReferenceEquals(_reducer, other._reducer);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is GradientAccumulationScope other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _reducer?.GetHashCode() ?? 0;
}
