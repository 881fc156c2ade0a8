namespace Artifex.Cuda.Native;

// Where each CUDA library may live on a Linux machine, in the order the resolver probes (cuda.md §2.5-2.6).
internal static partial class CudaLibraries
{
    /// <summary>Folders, separated by colons, searched before any wheel or system folder.</summary>
    public const string LibPathVariable = "ARTIFEX_CUDA_LIB_PATH";

    /// <summary>Python site-packages folders, separated by colons, whose <c>nvidia/*/lib</c> wheel folders are searched first.</summary>
    public const string SitePackagesVariable = "ARTIFEX_SITE_PACKAGES";

    /// <summary>
    /// The system folders, after the wheels: the toolkit, the driver mount of GPU containers (<c>/usr/local/nvidia</c>),
    /// the distribution folders and WSL's driver folder.
    /// </summary>
    private static readonly string[] s_systemFolders =
        ["/usr/local/cuda/lib64", "/usr/local/nvidia/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib/wsl/lib"];

    /// <summary>Gets the variable that names the full path of <paramref name="library"/>, overriding every search.</summary>
    /// <param name="library">The library.</param>
    /// <returns><c>ARTIFEX_LIBCUDA</c>, <c>ARTIFEX_LIBCUBLAS</c>, <c>ARTIFEX_LIBNCCL</c> or <c>ARTIFEX_LIBNVRTC</c>.</returns>
    public static string OverrideVariable(CudaLibrary library) => library switch
    {
        CudaLibrary.Driver => "ARTIFEX_LIBCUDA",
        CudaLibrary.Cublas => "ARTIFEX_LIBCUBLAS",
        CudaLibrary.Nccl => "ARTIFEX_LIBNCCL",
        CudaLibrary.Nvrtc => "ARTIFEX_LIBNVRTC",
        _ => throw new ArgumentOutOfRangeException(nameof(library), library, null),
    };

    /// <summary>Gets the sonames of <paramref name="library"/>, newest major first.</summary>
    /// <param name="library">The library.</param>
    /// <returns>E.g. <c>libcublas.so.13</c>, <c>libcublas.so.12</c>.</returns>
    public static IReadOnlyList<string> Sonames(CudaLibrary library) => library switch
    {
        CudaLibrary.Driver => ["libcuda.so.1"],
        CudaLibrary.Cublas => ["libcublas.so.13", "libcublas.so.12"],
        CudaLibrary.Nccl => ["libnccl.so.2"],
        CudaLibrary.Nvrtc => ["libnvrtc.so.13", "libnvrtc.so.12"],
        _ => throw new ArgumentOutOfRangeException(nameof(library), library, null),
    };

    /// <summary>
    /// Gets the folders under site-packages where NVIDIA's pip wheels put <paramref name="library"/>: CUDA 13 wheels share
    /// <c>nvidia/cu13/lib</c>, CUDA 12 wheels have one folder per library. The driver comes with the driver, never a wheel.
    /// </summary>
    /// <param name="library">The library.</param>
    /// <returns>Relative folders, e.g. <c>nvidia/cu13/lib</c>.</returns>
    public static IReadOnlyList<string> WheelFolders(CudaLibrary library) => library switch
    {
        CudaLibrary.Driver => [],
        CudaLibrary.Cublas => ["nvidia/cu13/lib", "nvidia/cublas/lib"],
        CudaLibrary.Nccl => ["nvidia/nccl/lib"],
        CudaLibrary.Nvrtc => ["nvidia/cu13/lib", "nvidia/cuda_nvrtc/lib"],
        _ => throw new ArgumentOutOfRangeException(nameof(library), library, null),
    };

    /// <summary>
    /// Lists the files to try for <paramref name="library"/>, in probing order: the override variable's path, then each
    /// soname in the <see cref="LibPathVariable"/> folders, the wheel folders under every site-packages folder, the
    /// toolkit and system folders, and last the bare sonames (for <c>dlopen</c>'s own search).
    /// </summary>
    /// <param name="library">The library.</param>
    /// <param name="getEnvironmentVariable">Reads an environment variable (tests pass a fake).</param>
    /// <returns>The distinct candidates; full paths first, bare sonames last. Site-packages folders are listed only when they exist.</returns>
    public static IReadOnlyList<string> CandidatePaths(CudaLibrary library, Func<string, string?> getEnvironmentVariable)
    {
        ArgumentNullException.ThrowIfNull(getEnvironmentVariable);
        IReadOnlyList<string> sonames = Sonames(library);
        var candidates = new List<string>();
        string? overridePath = getEnvironmentVariable(OverrideVariable(library));
        if (!string.IsNullOrWhiteSpace(overridePath))
        {
            candidates.Add(overridePath.Trim());
        }

        var folders = new List<string>(SplitPathList(getEnvironmentVariable(LibPathVariable)));
        foreach (string sitePackages in SitePackagesFolders(getEnvironmentVariable))
        {
            folders.AddRange(WheelFolders(library).Select(wheel => Path.Combine(sitePackages, wheel)));
        }

        folders.AddRange(SystemFolders(getEnvironmentVariable));
        foreach (string folder in folders)
        {
            candidates.AddRange(sonames.Select(soname => Path.Combine(folder, soname)));
        }

        candidates.AddRange(sonames);
        return [.. candidates.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Lists the existing site-packages folders: <see cref="SitePackagesVariable"/>, the active virtual environment and
    /// conda prefix, the environment of every <c>PATH</c> entry ending in <c>/bin</c> (which finds an image's Python
    /// without activation), and Debian's <c>/usr/local/lib/python3*/dist-packages</c>.
    /// </summary>
    /// <param name="getEnvironmentVariable">Reads an environment variable.</param>
    /// <returns>The distinct folders, in probing order.</returns>
    public static IReadOnlyList<string> SitePackagesFolders(Func<string, string?> getEnvironmentVariable)
    {
        ArgumentNullException.ThrowIfNull(getEnvironmentVariable);
        var folders = new List<string>(SplitPathList(getEnvironmentVariable(SitePackagesVariable)));
        folders.AddRange(PythonFolders(getEnvironmentVariable("VIRTUAL_ENV"), "site-packages"));
        folders.AddRange(PythonFolders(getEnvironmentVariable("CONDA_PREFIX"), "site-packages"));
        foreach (string entry in SplitPathList(getEnvironmentVariable("PATH")))
        {
            string trimmed = entry.TrimEnd('/');
            if (trimmed.EndsWith("/bin", StringComparison.Ordinal))
            {
                folders.AddRange(PythonFolders(trimmed[..^"/bin".Length], "site-packages"));
            }
        }

        folders.AddRange(PythonFolders("/usr/local", "dist-packages"));
        return [.. folders.Distinct(StringComparer.Ordinal)];
    }

    private static IEnumerable<string> SystemFolders(Func<string, string?> getEnvironmentVariable)
    {
        foreach (string variable in (string[])["CUDA_HOME", "CUDA_PATH"])
        {
            string? root = getEnvironmentVariable(variable);
            if (!string.IsNullOrWhiteSpace(root))
            {
                yield return Path.Combine(root.Trim(), "lib64");
            }
        }

        foreach (string folder in s_systemFolders)
        {
            yield return folder;
        }
    }

    /// <summary>Expands <c>prefix/lib/python3*/leaf</c> to the folders that exist, in ordinal order.</summary>
    private static List<string> PythonFolders(string? prefix, string leaf)
    {
        if (string.IsNullOrWhiteSpace(prefix))
        {
            return [];
        }

        string lib = Path.Combine(prefix.Trim(), "lib");
        try
        {
            if (!Directory.Exists(lib))
            {
                return [];
            }

            return Directory.EnumerateDirectories(lib, "python3*")
                .Select(python => Path.Combine(python, leaf))
                .Where(Directory.Exists)
                .Order(StringComparer.Ordinal)
                .ToList();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // An unreadable folder is not an error for a probe: the library is simply not there.
            return [];
        }
    }

    private static string[] SplitPathList(string? value) =>
        string.IsNullOrWhiteSpace(value) ? [] : value.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
