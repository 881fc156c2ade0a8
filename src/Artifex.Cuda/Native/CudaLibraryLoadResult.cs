namespace Artifex.Cuda.Native;

/// <summary>The outcome of loading one CUDA library: its handle and path, or why it did not load, and every path tried.</summary>
/// <param name="Handle">The library handle, or 0 when nothing loaded.</param>
/// <param name="Path">The path or soname that loaded, or <see langword="null"/>.</param>
/// <param name="Reason">Why nothing loaded, short enough for a log line, or <see langword="null"/> when it loaded.</param>
/// <param name="Tried">Every candidate tried, in order, up to and including the one that loaded.</param>
internal sealed record CudaLibraryLoadResult(nint Handle, string? Path, string? Reason, IReadOnlyList<string> Tried)
{
    /// <summary>Gets a value indicating whether the library loaded.</summary>
    public bool IsLoaded => Handle != 0;
}
