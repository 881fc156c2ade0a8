namespace Artifex.Mpi;

/// <summary>
/// A collective in flight, as the watchdog sees it: from <see cref="MpiWatchdog.Enter"/> until <see cref="Dispose"/>.
/// </summary>
/// <remarks>
/// A struct, so that guarding a collective allocates nothing: use it in a <c>using</c> statement. The default value guards
/// nothing (what <see cref="MpiWatchdog.Enter"/> returns while the watchdog is off). Disposing a copy a second time is
/// harmless.
/// </remarks>
public readonly struct MpiCollectiveScope : IDisposable, IEquatable<MpiCollectiveScope>
{
    private readonly CollectiveWatchdog? _watchdog;
    private readonly int _slot;
    private readonly long _token;

    internal MpiCollectiveScope(CollectiveWatchdog watchdog, int slot, long token)
    {
        _watchdog = watchdog;
        _slot = slot;
        _token = token;
    }

    /// <summary>Gets a value indicating whether the watchdog is timing this scope.</summary>
    public bool IsGuarded => _watchdog is not null;

    /// <summary>Compares two scopes.</summary>
    /// <param name="left">The first scope.</param>
    /// <param name="right">The second scope.</param>
    /// <returns><see langword="true"/> if both are the same scope.</returns>
    public static bool operator ==(MpiCollectiveScope left, MpiCollectiveScope right) => left.Equals(right);

    /// <summary>Compares two scopes.</summary>
    /// <param name="left">The first scope.</param>
    /// <param name="right">The second scope.</param>
    /// <returns><see langword="true"/> if they are different scopes.</returns>
    public static bool operator !=(MpiCollectiveScope left, MpiCollectiveScope right) => !left.Equals(right);

    /// <summary>Marks the collective as completed.</summary>
    public void Dispose() => _watchdog?.Exit(_slot, _token);

    /// <inheritdoc/>
    public bool Equals(MpiCollectiveScope other) => ReferenceEquals(_watchdog, other._watchdog) && _slot == other._slot && _token == other._token;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is MpiCollectiveScope other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _token.GetHashCode();
}
