using System.Globalization;
using System.Runtime.InteropServices;

namespace Artifex.Cuda.Native;

/// <summary>
/// Loads each CUDA library once, by full path, from <see cref="CudaLibraries.CandidatePaths"/>, remembering the handle, the
/// reason for a failure and every path tried. Thread-safe; failures are remembered too, so a missing library costs one
/// search per process. Tests create their own instance with a fake environment.
/// </summary>
internal sealed class CudaLibraryLoader
{
    /// <summary>How many tried paths a reason lists before summarising the rest (the full list is in <see cref="CudaLibraryLoadResult.Tried"/>).</summary>
    private const int ListedPaths = 12;

    private readonly Lazy<CudaLibraryLoadResult>[] _results;

    /// <summary>Initializes a new instance of the <see cref="CudaLibraryLoader"/> class.</summary>
    /// <param name="getEnvironmentVariable">Reads an environment variable (tests pass a fake).</param>
    public CudaLibraryLoader(Func<string, string?> getEnvironmentVariable)
    {
        ArgumentNullException.ThrowIfNull(getEnvironmentVariable);
        _results = [.. Enum.GetValues<CudaLibrary>().Select(library => new Lazy<CudaLibraryLoadResult>(
            () => Load(library, CudaLibraries.CandidatePaths(library, getEnvironmentVariable)),
            LazyThreadSafetyMode.ExecutionAndPublication))];
    }

    /// <summary>Loads <paramref name="library"/> on first use and returns the remembered outcome afterwards.</summary>
    /// <param name="library">The library.</param>
    /// <returns>The outcome; never throws.</returns>
    public CudaLibraryLoadResult Get(CudaLibrary library) => _results[(int)library].Value;

    /// <summary>Loads <paramref name="library"/> on first use.</summary>
    /// <param name="library">The library.</param>
    /// <param name="handle">The handle, or 0.</param>
    /// <param name="reason">Why it did not load, or <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when it loaded.</returns>
    public bool TryLoad(CudaLibrary library, out nint handle, out string? reason)
    {
        CudaLibraryLoadResult result = Get(library);
        handle = result.Handle;
        reason = result.Reason;
        return result.IsLoaded;
    }

    /// <summary>
    /// Loads the first candidate that loads. A full path is tried only when the file exists; a bare soname goes to
    /// <c>dlopen</c>'s own search. A candidate that exists but fails (wrong architecture, missing dependency) is remembered
    /// and the search goes on, so a broken copy in one folder does not hide a good one later.
    /// </summary>
    /// <param name="library">The library, which decides the dependencies loaded first from the same folder.</param>
    /// <param name="candidates">The candidates in order.</param>
    /// <returns>The outcome; never throws.</returns>
    public static CudaLibraryLoadResult Load(CudaLibrary library, IReadOnlyList<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        var tried = new List<string>(candidates.Count);
        string? failure = null;
        foreach (string candidate in candidates)
        {
            tried.Add(candidate);
            bool bare = IsBareName(candidate);
            if (!bare && !File.Exists(candidate))
            {
                continue;
            }

            PreloadDependencies(library, candidate, bare);
            if (TryLoadFile(candidate, out nint handle, out string error))
            {
                return new CudaLibraryLoadResult(handle, candidate, null, tried);
            }

            // dlopen of a bare soname that is nowhere on its search path is "not found", not a broken library.
            if (bare && error.Contains("No such file or directory", StringComparison.Ordinal))
            {
                continue;
            }

            failure ??= bare
                ? $"{candidate} found by the dynamic loader but failed to load: {error}"
                : $"{Path.GetFileName(candidate)} found at {candidate} but failed to load: {error}";
        }

        return new CudaLibraryLoadResult(0, null, failure ?? NotFoundReason(library, tried), tried);
    }

    /// <summary>Formats the reason for a library found nowhere.</summary>
    /// <param name="library">The library.</param>
    /// <param name="tried">The candidates tried.</param>
    /// <returns>E.g. <c>libnccl.so.2 not found (tried 14 paths: ...; set ARTIFEX_LIBNCCL or ARTIFEX_CUDA_LIB_PATH)</c>.</returns>
    internal static string NotFoundReason(CudaLibrary library, IReadOnlyList<string> tried)
    {
        string listed = string.Join(", ", tried.Take(ListedPaths));
        if (tried.Count > ListedPaths)
        {
            listed += string.Create(CultureInfo.InvariantCulture, $", ... (+{tried.Count - ListedPaths} more)");
        }

        return string.Create(
            CultureInfo.InvariantCulture,
            $"{string.Join(" or ", CudaLibraries.Sonames(library))} not found (tried {tried.Count} paths: {listed}; set {CudaLibraries.OverrideVariable(library)} or {CudaLibraries.LibPathVariable})");
    }

    private static bool IsBareName(string candidate) => !candidate.Contains('/', StringComparison.Ordinal);

    /// <summary>
    /// Loads what the library needs from its own folder first: glibc then satisfies the library's <c>DT_NEEDED</c> (cuBLAS
    /// needs cuBLASLt) or its later <c>dlopen</c> (NVRTC opens its builtins) by soname, even though the folder is on no
    /// search path. A dependency that fails is ignored: the library's own load then reports the real error.
    /// </summary>
    private static void PreloadDependencies(CudaLibrary library, string candidate, bool bare)
    {
        string fileName = Path.GetFileName(candidate);
        string folder = Path.GetDirectoryName(candidate) ?? string.Empty;
        if (library == CudaLibrary.Cublas && fileName.StartsWith("libcublas.", StringComparison.Ordinal))
        {
            string lt = "libcublasLt" + fileName["libcublas".Length..];
            if (bare)
            {
                _ = TryLoadFile(lt, out _, out _);
            }
            else if (File.Exists(Path.Combine(folder, lt)))
            {
                _ = TryLoadFile(Path.Combine(folder, lt), out _, out _);
            }
        }
        else if (library == CudaLibrary.Nvrtc && !bare)
        {
            PreloadNvrtcBuiltins(folder, fileName);
        }
    }

    private static void PreloadNvrtcBuiltins(string folder, string fileName)
    {
        const string Stem = "libnvrtc.so.";
        string major = fileName.StartsWith(Stem, StringComparison.Ordinal) ? fileName[Stem.Length..].Split('.')[0] : string.Empty;
        try
        {
            string? builtins = Directory.EnumerateFiles(folder, "libnvrtc-builtins.so." + major + "*")
                .Order(StringComparer.Ordinal)
                .FirstOrDefault();
            if (builtins is not null)
            {
                _ = TryLoadFile(builtins, out _, out _);
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // Without the builtins NVRTC still loads; it reports their absence itself when it compiles.
        }
    }

    /// <summary>Loads one file, keeping the <c>dlerror</c> text of a failure (the last line of the runtime's message).</summary>
    private static bool TryLoadFile(string path, out nint handle, out string error)
    {
        try
        {
            handle = NativeLibrary.Load(path);
            error = string.Empty;
            return true;
        }
        catch (Exception exception) when (exception is DllNotFoundException or BadImageFormatException)
        {
            handle = 0;
            string[] lines = exception.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            error = lines.Length == 0 ? exception.GetType().Name : lines[^1];
            return false;
        }
    }
}
