namespace Artifex.Mpi.Tests;

/// <summary>
/// The wiring across real processes, few and coarse (each job costs a few tenths of a second): the smoke scenario on 2 and
/// 4 ranks, and the two failure paths that must end the job instead of hanging it. Skipped without mpirun or OpenMPI.
/// The tests of one class run one at a time, so at most one job competes for the cores.
/// </summary>
public sealed class MpirunTests
{
    [Fact]
    public async Task Smoke_OnTwoRanks_Passes()
    {
        MpiJobResult job = await MpiJob.RunAsync(2, "smoke");

        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Contains("SMOKE PASS", job.Output, StringComparison.Ordinal);
        Assert.Contains("rank 0/2 OK", job.Output, StringComparison.Ordinal);
        Assert.Contains("rank 1/2 OK", job.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", job.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Smoke_OnFourRanks_Oversubscribed_WithTwoByTwoGrid_Passes()
    {
        MpiJobResult job = await MpiJob.RunAsync(4, "smoke");

        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Contains("SMOKE PASS", job.Output, StringComparison.Ordinal);
        Assert.Contains("grid data×model = 2×2", job.Output, StringComparison.Ordinal);
        for (int rank = 0; rank < 4; rank++)
        {
            Assert.Contains($"rank {rank}/4 OK", job.Output, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("\u001b", job.Output, StringComparison.Ordinal); // TERM=dumb: no terminal escapes
    }

    [Fact]
    public async Task UnhandledException_OnOneRank_AbortsTheJobWith17_AndNamesTheException()
    {
        MpiJobResult job = await MpiJob.RunAsync(2, "throw");

        Assert.True(job.ExitCode == MpiRuntime.UnhandledExceptionExitCode, job.ToString());
        Assert.Contains("artifex-mpi: rank 1: System.InvalidOperationException: deliberate failure on rank 1", job.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RankThatSkipsACollective_IsCaughtByTheWatchdog_Exit42_NamingTheCollective()
    {
        MpiJobResult job = await MpiJob.RunAsync(2, "hang");

        Assert.True(job.ExitCode == MpiWatchdog.TimeoutExitCode, job.ToString());
        Assert.Contains(
            "artifex-mpi: rank 0: all_reduce over MPI_COMM_WORLD did not complete within 2 s: a rank never joined; aborting the job",
            job.Error,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Worker_WithoutMpirun_IsAWorldOfOne()
    {
        MpiJobResult job = await MpiJob.RunSingletonAsync("singleton");

        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Contains("rank 0/1 OK", job.Output, StringComparison.Ordinal);
        Assert.Contains("SINGLETON PASS", job.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Provider_AcrossProcesses_TwoDevicesEach_EveryCollectiveAndTheGridAndPlacementAreExact(int processes)
    {
        MpiJobResult job = await MpiJob.RunAsync(processes, "provider");

        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Contains("PROVIDER PASS", job.Output, StringComparison.Ordinal);
        for (int rank = 0; rank < processes; rank++)
        {
            Assert.Contains($"rank {rank}/{processes} PROVIDER OK", job.Output, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Provider_FaultCampaign_EveryDisagreementIsAnErrorOnEveryRank_TheOtherRoundsAreExact(int processes)
    {
        MpiJobResult job = await MpiJob.RunAsync(processes, "provider-campaign");

        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Contains("CAMPAIGN PASS", job.Output, StringComparison.Ordinal);
        for (int rank = 0; rank < processes; rank++)
        {
            Assert.Contains($"rank {rank}/{processes} CAMPAIGN OK 200 rounds", job.Output, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task ShardMapAndPMap_OverMeshesSpanningProcesses_EachProcessGetsItsBlocks_RefusalsOnEveryProcess(int processes)
    {
        MpiJobResult job = await MpiJob.RunAsync(processes, "provider-shardmap");

        Assert.True(job.ExitCode == 0, job.ToString());
        for (int rank = 0; rank < processes; rank++)
        {
            Assert.Contains($"rank {rank}/{processes} SHARDMAP OK", job.Output, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task StartedCollectivesAndGradientReducer_AcrossProcesses_GiveTheBlockingResults(int processes)
    {
        MpiJobResult job = await MpiJob.RunAsync(processes, "provider-overlap");

        Assert.True(job.ExitCode == 0, job.ToString());
        for (int rank = 0; rank < processes; rank++)
        {
            Assert.Contains($"rank {rank}/{processes} OVERLAP OK", job.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Provider_AParticipantThrows_AbortsTheJobWith17_PrintingTheOriginal()
    {
        MpiJobResult job = await MpiJob.RunAsync(2, "provider-throw");

        Assert.True(job.ExitCode == MpiProvider.ExceptionExitCode, job.ToString());
        Assert.Contains("participant failure injected by the provider-throw scenario", job.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL:", job.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Provider_AxisSetsWithLocalAndCrossProcessGroups_AndAReversedMesh_AreExactOnEveryRun()
    {
        // Three devices per process on a 3 x 2 mesh: some groups of one axis set stay inside a process, others cross it,
        // so participants reach their first cross-process collective in varying orders (communicators must not care).
        MpiJobResult job = await MpiJob.RunAsync(2, "provider-mixed");

        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Contains("rank 0/2 MIXED OK", job.Output, StringComparison.Ordinal);
        Assert.Contains("rank 1/2 MIXED OK", job.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Provider_ProcessesDisagreeOnTheLocalDeviceCount_EveryProcessRefusesNamingTheCounts()
    {
        MpiJobResult job = await MpiJob.RunAsync(2, "provider-mismatch");

        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Contains("rank 0/2 MISMATCH REFUSED", job.Output, StringComparison.Ordinal);
        Assert.Contains("rank 1/2 MISMATCH REFUSED", job.Output, StringComparison.Ordinal);
        Assert.Contains("rank 0/2 MALFORMED REFUSED: ARTIFEX_LOCAL_DEVICES must be a positive integer, but is 'two'.", job.Output, StringComparison.Ordinal);
        Assert.Contains("rank 1/2 AGREED 4", job.Output, StringComparison.Ordinal);
    }
}
