using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Artifex.Cuda.Native;

// The resolver that maps the logical import names (<see cref="DriverName"/>, ...) to real files, and
// <see cref="TryLoad"/>, which callers use before any P/Invoke to get a short reason instead of a
// <see cref="DllNotFoundException"/>.
internal static partial class CudaLibraries
{
    private static readonly CudaLibraryLoader s_loader = new(Environment.GetEnvironmentVariable);

    /// <summary>Loads <paramref name="library"/> on first use (once per process); never throws.</summary>
    /// <param name="library">The library.</param>
    /// <param name="reason">Why it did not load, or <see langword="null"/> when it did.</param>
    /// <returns><see langword="true"/> when it loaded.</returns>
    public static bool TryLoad(CudaLibrary library, out string? reason) => s_loader.TryLoad(library, out _, out reason);

    /// <summary>Gets every path tried for <paramref name="library"/>, loading it first if needed (for "why no GPU" reports).</summary>
    /// <param name="library">The library.</param>
    /// <returns>The candidates tried, in order.</returns>
    public static IReadOnlyList<string> TriedPaths(CudaLibrary library) => s_loader.Get(library).Tried;

    /// <summary>Gets the path or soname <paramref name="library"/> loaded from, or <see langword="null"/>, loading it first if needed.</summary>
    /// <param name="library">The library.</param>
    /// <returns>The path.</returns>
    public static string? LoadedPath(CudaLibrary library) => s_loader.Get(library).Path;

    /// <summary>
    /// Registers the resolver. A module initializer runs before any P/Invoke of this assembly, and only one resolver may
    /// ever be set per assembly, so this is the one place that sets it.
    /// </summary>
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries", Justification = "The import resolver must be registered before the first P/Invoke of the assembly, which only a module initializer guarantees; it is trim- and AOT-safe.")]
    internal static void RegisterResolver() => NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);

    /// <summary>Maps a logical name to its loaded handle; 0 for other names (default probing) or a library that did not load.</summary>
    /// <param name="libraryName">The name in the import.</param>
    /// <param name="assembly">The importing assembly.</param>
    /// <param name="searchPath">The import's search path, unused: the loader has its own order.</param>
    /// <returns>The handle, or 0 (the runtime then throws <see cref="DllNotFoundException"/>).</returns>
    internal static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        CudaLibrary? library = libraryName switch
        {
            DriverName => CudaLibrary.Driver,
            CublasName => CudaLibrary.Cublas,
            NcclName => CudaLibrary.Nccl,
            NvrtcName => CudaLibrary.Nvrtc,
            _ => null,
        };
        return library is { } known && s_loader.TryLoad(known, out nint handle, out _) ? handle : 0;
    }
}
