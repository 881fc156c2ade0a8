using Artifex.Mpi.Interop;

namespace Artifex.Mpi;

// Singleton mode: a process started without a launcher initializes MPI as a world of one, for which OpenMPI forks its
// <c>orted</c> daemon. Its failures are fatal inside <c>MPI_Init_thread</c> (the process exits), so they are checked first.
public static partial class MpiRuntime
{
    /// <summary>Variables a launcher sets in every process it starts: mpirun (ORTE), PMIx (e.g. <c>srun --mpi=pmix</c>), PMI-1/2.</summary>
    private static readonly bool s_launched = Environment.GetEnvironmentVariable(LauncherVariable) is not null
        || Environment.GetEnvironmentVariable("PMIX_RANK") is not null
        || Environment.GetEnvironmentVariable("PMI_RANK") is not null;

    /// <summary>
    /// Says why singleton mode cannot start in this process, or <see langword="null"/> when it can (or when a launcher
    /// started the process, so singleton mode does not apply). Never throws.
    /// </summary>
    /// <returns>The reason, or <see langword="null"/>.</returns>
    internal static string? SingletonProblem()
    {
        if (s_launched || Library.Abi is null)
        {
            return null;
        }

        return FindOrted(out string searched) is null
            ? $"Started without mpirun, MPI runs in singleton mode, for which OpenMPI starts its orted daemon, and orted was not found ({searched}): install openmpi-bin, or launch the program with mpirun."
            : null;
    }

    /// <summary>
    /// Before a singleton <c>MPI_Init_thread</c>: fails clearly where MPI would kill the process, and selects the
    /// <c>isolated</c> process launcher (unless <c>OMPI_MCA_plm</c> is set), which starts the local daemon without the
    /// <c>ssh</c>/<c>rsh</c> agent OpenMPI's default launcher insists on finding in <c>PATH</c>.
    /// </summary>
    private static void PrepareSingleton()
    {
        if (s_launched)
        {
            return;
        }

        if (SingletonProblem() is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        _ = LibC.SetIfUnset("OMPI_MCA_plm\0"u8, "isolated\0"u8);
    }

    /// <summary>Finds OpenMPI's daemon where OpenMPI looks for it: its install's <c>bin</c> beside the library, <c>OPAL_PREFIX</c>, <c>PATH</c>.</summary>
    private static string? FindOrted(out string searched)
    {
        var directories = new List<string>();
        string? library = LoadedLibraryPath();
        if (library is not null && Path.GetDirectoryName(library) is { } lib)
        {
            directories.Add(Path.GetFullPath(Path.Combine(lib, "..", "bin")));
            directories.Add(Path.GetFullPath(Path.Combine(lib, "..", "..", "bin")));
        }

        if (Environment.GetEnvironmentVariable("OPAL_PREFIX") is { Length: > 0 } prefix)
        {
            directories.Add(Path.Combine(prefix, "bin"));
        }

        directories.AddRange((Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        searched = "looked in " + string.Join(", ", directories.Distinct(StringComparer.Ordinal));
        return directories.Select(directory => Path.Combine(directory, "orted")).FirstOrDefault(File.Exists);
    }

    /// <summary>The file <c>libmpi.so.40</c> was loaded from, from <c>/proc/self/maps</c>; <see langword="null"/> if unknown.</summary>
    private static string? LoadedLibraryPath()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/maps"))
            {
                int path = line.IndexOf('/', StringComparison.Ordinal);
                if (path >= 0 && line.Contains("/libmpi.so.40", StringComparison.Ordinal))
                {
                    return line[path..];
                }
            }
        }
        catch (IOException)
        {
            // no /proc: the other places are still searched
        }
        catch (UnauthorizedAccessException)
        {
            // likewise
        }

        return null;
    }
}
