namespace Artifex.Mpi.Tests;

/// <summary>The runtime in singleton mode, inside the test process: availability, initialization, the world of one.</summary>
[Collection(InProcessMpi.Collection)]
public sealed class MpiRuntimeTests
{
    [Fact]
    public void Availability_IsConsistent_AndNeverThrows()
    {
        Assert.Equal(MpiRuntime.IsAvailable, MpiRuntime.UnavailableReason is null);
        if (!MpiRuntime.IsAvailable)
        {
            Assert.Contains("libmpi.so.40", MpiRuntime.UnavailableReason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Probe_OfMissingLibrary_NamesItAndWhatToInstall()
    {
        string? reason = MpiRuntime.Probe("libartifex-no-such-mpi.so.40");

        Assert.NotNull(reason);
        Assert.Contains("libartifex-no-such-mpi.so.40", reason, StringComparison.Ordinal);
        Assert.Contains("openmpi-bin", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Probe_OfLibraryThatIsNotOpenMpi_SaysSo()
    {
        string? reason = MpiRuntime.Probe("libc.so.6");

        Assert.NotNull(reason);
        Assert.Contains("not OpenMPI", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Initialize_GivesWorldOfOne()
    {
        MpiCommunicator world = InProcessMpi.World();

        Assert.True(MpiRuntime.IsInitialized);
        Assert.False(MpiRuntime.LaunchedByMpirun);
        Assert.Equal((0, 1), (MpiRuntime.Rank, MpiRuntime.Size));
        Assert.Equal((0, 1), (MpiRuntime.LocalRank, MpiRuntime.LocalSize));
        Assert.Equal((0, 1), (world.Rank, world.Size));
        Assert.Equal("MPI_COMM_WORLD", world.Name);
    }

    [Fact]
    public void Initialize_FromManyThreads_IsIdempotent()
    {
        MpiCommunicator world = InProcessMpi.World();

        Parallel.For(0, 8, _ => MpiRuntime.Initialize());

        Assert.Same(world, MpiRuntime.World);
        Assert.True(MpiRuntime.IsInitialized);
    }

    [Fact]
    public void LibraryVersion_NamesOpenMpi_WithoutTrailingNul()
    {
        Assert.SkipUnless(MpiRuntime.IsAvailable, $"OpenMPI is not available: {MpiRuntime.UnavailableReason}");

        string version = MpiRuntime.LibraryVersion;

        Assert.StartsWith("Open MPI v", version, StringComparison.Ordinal);
        Assert.DoesNotContain('\0', version);
        Assert.Equal(version.Trim(), version);
    }

    [Fact]
    public void WallTime_DoesNotGoBack()
    {
        _ = InProcessMpi.World();

        double first = MpiRuntime.WallTime;
        double second = MpiRuntime.WallTime;

        Assert.True(first >= 0); // OpenMPI counts from initialization
        Assert.True(second >= first);
    }

    [Fact]
    public void World_DisposeDoesNothing()
    {
        MpiCommunicator world = InProcessMpi.World();

        world.Dispose();

        Assert.False(world.IsDisposed);
        world.Barrier();
    }

    [Fact]
    public void Watchdog_IsOnByDefault_WithTheDocumentedTimeout()
    {
        _ = InProcessMpi.World();
        string? configured = Environment.GetEnvironmentVariable(MpiWatchdog.TimeoutVariable);

        Assert.Equal(MpiWatchdog.ParseTimeout(configured), MpiWatchdog.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(300), MpiWatchdog.DefaultTimeout);
    }
}
