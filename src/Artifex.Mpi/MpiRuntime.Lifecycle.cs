using Artifex.Mpi.Interop;

namespace Artifex.Mpi;

// Initialization, the process hooks, and finalization.
public static partial class MpiRuntime
{
    private static readonly Lock s_gate = new();
    private static MpiCommunicator? s_world;
    private static int s_localRank;
    private static int s_localSize;
    private static bool s_ownsMpi;
    private static bool s_hooksInstalled;
    private static int s_aborting;

    /// <summary>
    /// Initializes MPI for this process, once: later calls (from any thread) return at once.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Calls <c>MPI_Init_thread</c> requesting <c>MPI_THREAD_MULTIPLE</c> (the watchdog aborts from its own thread),
    /// sets <c>MPI_ERRORS_RETURN</c> on the world so that failed calls throw <see cref="MpiException"/> instead of killing
    /// the job, reads the node-local rank, and installs two process hooks: an unhandled exception prints
    /// <c>artifex-mpi: rank R: &lt;exception&gt;</c> and aborts the job with <see cref="UnhandledExceptionExitCode"/>, and
    /// process exit calls <c>MPI_Finalize</c> (unless the job is aborting or MPI is already finalized).
    /// </para>
    /// <para>
    /// Started without a launcher (singleton mode), it selects OpenMPI's <c>isolated</c> process launcher unless
    /// <c>OMPI_MCA_plm</c> is set, so that no <c>ssh</c> is needed on the one node.
    /// </para>
    /// <para>
    /// MPI can be initialized only once per process and never again after it is finalized. If other code initialized MPI
    /// first, this adopts it and leaves finalization to that code. Every rank must call it: it is collective.
    /// </para>
    /// </remarks>
    /// <exception cref="InvalidOperationException">
    /// OpenMPI cannot be loaded; started without mpirun, OpenMPI's <c>orted</c> (needed by singleton mode) is missing; MPI
    /// was already finalized in this process; the library provides less than
    /// <c>MPI_THREAD_SERIALIZED</c>; or <see cref="MpiWatchdog.TimeoutVariable"/> is malformed.
    /// </exception>
    /// <exception cref="MpiException">An MPI call failed.</exception>
    public static void Initialize()
    {
        if (IsInitialized)
        {
            return;
        }

        lock (s_gate)
        {
            if (s_world is not null)
            {
                return;
            }

            IMpiAbi abi = Abi;
            _ = MpiWatchdog.Timeout; // a malformed ARTIFEX_MPI_COLLECTIVE_TIMEOUT_S fails here, not at the first collective
            int provided = StartLibrary(abi);
            InstallHooks();
            RequireThreadLevel(abi, provided);
            Check(OpenMpi.MPI_Comm_set_errhandler(abi.CommWorld, abi.ErrorsReturn), "MPI_Comm_set_errhandler");
            Check(OpenMpi.MPI_Comm_set_errhandler(abi.CommSelf, abi.ErrorsReturn), "MPI_Comm_set_errhandler");
            var world = new MpiCommunicator(abi.CommWorld, owned: false, "MPI_COMM_WORLD");
            (s_localRank, s_localSize) = ReadNodeLocal(abi, world.Rank);
            Volatile.Write(ref s_world, world);
        }
    }

    private static unsafe int StartLibrary(IMpiAbi abi)
    {
        int flag = 0;
        Check(OpenMpi.MPI_Finalized(&flag), "MPI_Finalized");
        if (flag != 0)
        {
            throw new InvalidOperationException("MPI has been finalized in this process and cannot be initialized again: initialize once per process, and let process exit finalize it.");
        }

        int provided = 0;
        Check(OpenMpi.MPI_Initialized(&flag), "MPI_Initialized");
        if (flag != 0)
        {
            // Initialized before: by an earlier attempt of ours that failed later on, or by other code in the process.
            Check(OpenMpi.MPI_Query_thread(&provided), "MPI_Query_thread");
            return provided;
        }

        PrepareSingleton();
        Check(OpenMpi.MPI_Init_thread(null, null, abi.ThreadMultiple, &provided), "MPI_Init_thread");
        s_ownsMpi = true;
        return provided;
    }

    private static void RequireThreadLevel(IMpiAbi abi, int provided)
    {
        if (provided < abi.ThreadSerialized)
        {
            throw new InvalidOperationException(
                $"{abi.Name} provides thread level {provided} (MPI_THREAD_SINGLE = {abi.ThreadSingle}, FUNNELED = {abi.ThreadFunneled}), but Artifex.Mpi needs MPI_THREAD_SERIALIZED ({abi.ThreadSerialized}) or more, "
                + $"and MPI_THREAD_MULTIPLE ({abi.ThreadMultiple}) for the watchdog: use a build with thread support (`ompi_info | grep -i thread` shows it).");
        }
    }

    private static unsafe (int Rank, int Size) ReadNodeLocal(IMpiAbi abi, int worldRank)
    {
        nint local = 0;
        using (MpiWatchdog.Enter("MPI_Comm_split_type (the node-local split at initialization)"))
        {
            Check(OpenMpi.MPI_Comm_split_type(abi.CommWorld, abi.CommTypeShared, worldRank, abi.InfoNull, &local), "MPI_Comm_split_type");
        }

        try
        {
            int rank = 0, size = 0;
            Check(OpenMpi.MPI_Comm_rank(local, &rank), "MPI_Comm_rank");
            Check(OpenMpi.MPI_Comm_size(local, &size), "MPI_Comm_size");
            return (rank, size);
        }
        finally
        {
            Check(OpenMpi.MPI_Comm_free(&local), "MPI_Comm_free");
        }
    }

    private static void InstallHooks()
    {
        if (s_hooksInstalled)
        {
            return;
        }

        s_hooksInstalled = true;
        AppDomain.CurrentDomain.UnhandledException += OnUnhandledException;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    private static void OnUnhandledException(object? sender, UnhandledExceptionEventArgs e)
    {
        if (!IsFinalized())
        {
            Abort(UnhandledExceptionExitCode, e.ExceptionObject.ToString() ?? "an unhandled exception");
        }
    }

    private static void OnProcessExit(object? sender, EventArgs e)
    {
        if (!s_ownsMpi || Volatile.Read(ref s_aborting) != 0 || IsFinalized())
        {
            return;
        }

        // MPI_Finalize waits for every rank: a rank missing from it is a hang like any other, so the watchdog times it.
        int code;
        using (MpiWatchdog.Enter("MPI_Finalize at process exit"))
        {
            code = OpenMpi.MPI_Finalize();
        }

        if (code != OpenMpi.Success)
        {
            Console.Error.WriteLine($"artifex-mpi: rank {RankText}: MPI_Finalize failed: {ErrorString(code)} (error {code})");
        }
    }
}
