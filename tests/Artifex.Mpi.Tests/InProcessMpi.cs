using System.Runtime.InteropServices;

namespace Artifex.Mpi.Tests;

/// <summary>
/// MPI in the test process itself, in singleton mode (a world of one). MPI initializes once per process and can never be
/// initialized again after finalization, so the tests initialize it on first use and never finalize it: process exit does.
/// </summary>
internal static partial class InProcessMpi
{
    /// <summary>
    /// The test collection of every class that calls MPI in this process: MPI forbids concurrent collectives on one
    /// communicator, so those classes run one after the other.
    /// </summary>
    public const string Collection = "MPI in the test process";

    private static readonly Lock s_lock = new();

    /// <summary>Skips the test when OpenMPI cannot be loaded; otherwise initializes MPI (once) and returns the world.</summary>
    public static MpiCommunicator World()
    {
        Assert.SkipUnless(MpiRuntime.IsAvailable, $"OpenMPI is not available: {MpiRuntime.UnavailableReason}");

        // Singleton initialization that fails inside MPI ends the process (the whole test run), so check first.
        Assert.SkipWhen(!MpiRuntime.IsInitialized && MpiRuntime.SingletonProblem() is not null, MpiRuntime.SingletonProblem() ?? string.Empty);
        lock (s_lock)
        {
            if (!MpiRuntime.IsInitialized)
            {
                // The transports CI uses, unless the caller chose others: no network probing, ~25 ms instead of ~225 ms.
                // .NET keeps its own copy of the environment, so MPI only sees what reaches the native one.
                _ = setenv("OMPI_MCA_pml", "ob1", 0);
                _ = setenv("OMPI_MCA_btl", "self,vader", 0);
            }

            MpiRuntime.Initialize();
        }

        return MpiRuntime.World;
    }

    /// <summary>A private communicator over this process, so that a test may change its settings without disturbing others.</summary>
    public static MpiCommunicator Private(string name)
    {
        MpiCommunicator world = World();
        lock (s_lock)
        {
            return world.Split(0, 0, name) ?? throw new InvalidOperationException("A split with colour 0 returned no communicator.");
        }
    }

#pragma warning disable IDE1006, SA1300 // the C name
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
#pragma warning restore IDE1006, SA1300
}
