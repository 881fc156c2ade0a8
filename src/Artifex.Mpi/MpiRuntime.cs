using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Artifex.Mpi.Interop;

namespace Artifex.Mpi;

/// <summary>
/// The MPI library in this process: availability, initialization, the world communicator, and job-wide abort.
/// </summary>
/// <remarks>
/// <para>
/// Call <see cref="Initialize"/> once per process before anything else (further calls do nothing). Launched by
/// <c>mpirun -np N</c>, each process is one rank of an N-rank world; started directly (singleton mode), the process is a
/// world of one, so the same program runs on a laptop.
/// </para>
/// <para>
/// Failures never hang the job: an unhandled exception on any rank prints <c>artifex-mpi: rank R: &lt;exception&gt;</c>
/// and aborts the whole job with exit code <see cref="UnhandledExceptionExitCode"/> (17); a collective that a rank never
/// joins is aborted by <see cref="MpiWatchdog"/> (exit code 42). MPI is finalized when the process exits normally. A rank
/// that exits while the others still wait for it in a collective blocks in <c>MPI_Finalize</c> until the watchdog fires.
/// </para>
/// <para>Binds OpenMPI 4.x (<c>libmpi.so.40</c>) on Linux; package <c>openmpi-bin</c> on Debian and Ubuntu.</para>
/// </remarks>
public static partial class MpiRuntime
{
    /// <summary>The exit code of a job aborted by an unhandled exception on one of its ranks.</summary>
    public const int UnhandledExceptionExitCode = 17;

    /// <summary>The environment variable <c>mpirun</c> (OpenMPI's ORTE/PRRTE) sets in every rank it launches.</summary>
    public const string LauncherVariable = "OMPI_COMM_WORLD_SIZE";

    /// <summary>Read before MPI initializes: singleton initialization adds <c>OMPI_*</c> variables to the native environment.</summary>
    private static readonly bool s_launchedByMpirun = Environment.GetEnvironmentVariable(LauncherVariable) is not null;

    /// <summary>Gets a value indicating whether OpenMPI (<c>libmpi.so.40</c>) can be loaded. Never throws.</summary>
    public static bool IsAvailable => Library.Abi is not null;

    /// <summary>
    /// Gets why OpenMPI cannot be used (the loader's message and what to install), or <see langword="null"/> when
    /// <see cref="IsAvailable"/>. Never throws.
    /// </summary>
    public static string? UnavailableReason => Library.Reason;

    /// <summary>Gets a value indicating whether <see cref="Initialize"/> has completed.</summary>
    public static bool IsInitialized => Volatile.Read(ref s_world) is not null;

    /// <summary>Gets a value indicating whether <c>mpirun</c> launched this process (<c>OMPI_COMM_WORLD_SIZE</c> is set); <see langword="false"/> in singleton mode.</summary>
    public static bool LaunchedByMpirun => s_launchedByMpirun;

    /// <summary>Gets this process's rank in the world communicator.</summary>
    /// <exception cref="InvalidOperationException"><see cref="Initialize"/> has not been called.</exception>
    public static int Rank => World.Rank;

    /// <summary>Gets the number of processes in the world communicator.</summary>
    /// <exception cref="InvalidOperationException"><see cref="Initialize"/> has not been called.</exception>
    public static int Size => World.Size;

    /// <summary>Gets this process's rank among the processes on its node (a <c>MPI_COMM_TYPE_SHARED</c> split, ordered by world rank).</summary>
    /// <exception cref="InvalidOperationException"><see cref="Initialize"/> has not been called.</exception>
    public static int LocalRank
    {
        get
        {
            _ = World;
            return s_localRank;
        }
    }

    /// <summary>Gets the number of processes on this process's node (the size of its <c>MPI_COMM_TYPE_SHARED</c> split).</summary>
    /// <exception cref="InvalidOperationException"><see cref="Initialize"/> has not been called.</exception>
    public static int LocalSize
    {
        get
        {
            _ = World;
            return s_localSize;
        }
    }

    /// <summary>Gets the world communicator (<c>MPI_COMM_WORLD</c>, with errors returned rather than fatal). Never dispose it.</summary>
    /// <exception cref="InvalidOperationException"><see cref="Initialize"/> has not been called.</exception>
    public static MpiCommunicator World =>
        Volatile.Read(ref s_world) ?? throw new InvalidOperationException("MPI is not initialized: call MpiRuntime.Initialize() first.");

    /// <summary>Gets the library's version string (<c>MPI_Get_library_version</c>), e.g. <c>Open MPI v4.1.4, package: Debian OpenMPI, …</c>.</summary>
    /// <remarks>Available before <see cref="Initialize"/>.</remarks>
    /// <exception cref="InvalidOperationException">OpenMPI cannot be loaded (<see cref="UnavailableReason"/>).</exception>
    public static string LibraryVersion => s_libraryVersion ??= ReadLibraryVersion();

    /// <summary>Gets the seconds elapsed since an arbitrary time in the past (<c>MPI_Wtime</c>; OpenMPI 4.1 counts from initialization).</summary>
    /// <exception cref="InvalidOperationException"><see cref="Initialize"/> has not been called.</exception>
    public static double WallTime
    {
        get
        {
            _ = World;
            return OpenMpi.MPI_Wtime();
        }
    }

    /// <summary>
    /// Prints <c>artifex-mpi: rank R: <paramref name="message"/></c> on this process's stderr, then aborts every process
    /// of the job (<c>MPI_Abort</c> on the world): <c>mpirun</c> exits with <paramref name="code"/>. Never returns.
    /// </summary>
    /// <param name="code">The job's exit code (0-255 survive as a process exit status).</param>
    /// <param name="message">What went wrong, as the operator should read it.</param>
    /// <remarks>
    /// Callable from any thread. Before initialization (or after finalization) only this process exits, with
    /// <paramref name="code"/>.
    /// </remarks>
    [DoesNotReturn]
    public static void Abort(int code, string message)
    {
        Interlocked.Exchange(ref s_aborting, 1);
        Console.Error.WriteLine($"artifex-mpi: rank {RankText}: {message}");
        Console.Error.Flush();
        if (Volatile.Read(ref s_world) is not null && !IsFinalized())
        {
            _ = OpenMpi.MPI_Abort(Library.Abi!.CommWorld, code);
        }

        // MPI_Abort does not return; if it did, or MPI never started, the process still ends with the code.
        Environment.Exit(code);
    }

    /// <summary>The world rank for messages: known after initialization, else mpirun's variable, else <c>?</c>.</summary>
    private static string RankText =>
        Volatile.Read(ref s_world) is { } world ? world.Rank.ToString(CultureInfo.InvariantCulture)
        : Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_RANK") ?? "?";
}
