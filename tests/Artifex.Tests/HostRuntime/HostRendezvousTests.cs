using System.Collections.Immutable;
using Artifex.HostRuntime;

namespace Artifex.Tests.HostRuntime;

/// <summary>
/// The host-issued rendezvous with one local participant (one device per process: the common MPI and multi-GPU layout),
/// which runs the collective without meeting anybody: the collective runs once per call, a failure reaches the caller
/// wrapped and naming the collective and axis, the next call starts clean, and an aborted region runs nothing.
/// </summary>
public sealed class HostRendezvousTests
{
    private static readonly HostCollectiveCall s_call = new(HostCollectiveKind.AllReduce, typeof(float), 4, 4, ReduceOp.Sum, 0, null, null);

    [Fact]
    public void Run_OneLocalParticipant_ExecutesOncePerCall()
    {
        (HostSpmdRegion region, CountingRendezvous rendezvous) = Create(localRanks: [1]);

        rendezvous.Run(1, s_call);
        rendezvous.Run(1, s_call);

        Assert.Equal(2, rendezvous.Executions);
        Assert.False(region.IsAborted);
    }

    [Fact]
    public void Run_OneLocalParticipant_ExecuteThrows_CallerGetsTheFailureWrapped_AndTheNextCallStartsClean()
    {
        (_, CountingRendezvous rendezvous) = Create(localRanks: [0]);
        rendezvous.FailNext = new InvalidOperationException("the transport broke");

        var error = Assert.Throws<InvalidOperationException>(() => rendezvous.Run(0, s_call));
        Assert.Equal("all_reduce over axis 'data' failed: the transport broke", error.Message);
        Assert.Same(rendezvous.LastFailure, error.InnerException);

        rendezvous.Run(0, s_call);
        Assert.Equal(2, rendezvous.Executions);
    }

    [Fact]
    public void Run_OneLocalParticipant_RegionAborted_ThrowsAndRunsNothing()
    {
        (HostSpmdRegion region, CountingRendezvous rendezvous) = Create(localRanks: [0]);
        region.Abort(new InvalidOperationException("another participant failed"), region.Mesh.Devices[1]);

        var error = Assert.Throws<OperationCanceledException>(() => rendezvous.Run(0, s_call));
        Assert.Contains("another participant failed", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, rendezvous.Executions);
    }

    private static (HostSpmdRegion Region, CountingRendezvous Rendezvous) Create(int[] localRanks)
    {
        var mesh = new Mesh(TestDevices.Create(2), ("data", 2));
        var region = new HostSpmdRegion(mesh, static _ => { }, TimeSpan.FromSeconds(5), localRanks.Length, static (_, _) => throw new NotSupportedException(), static (_, _) => throw new NotSupportedException());
        var group = new AxisGroup(mesh, ["data"], [0], ImmutableArray.Create(localRanks[0]));
        var rendezvous = new CountingRendezvous(region, group, localRanks);
        return (region, rendezvous);
    }

    private sealed class CountingRendezvous(HostSpmdRegion region, AxisGroup group, int[] localRanks) : HostRendezvous(region, group, localRanks)
    {
        public int Executions { get; private set; }

        public Exception? FailNext { get; set; }

        public Exception? LastFailure { get; private set; }

        protected override void Execute()
        {
            Executions++;
            if (FailNext is { } failure)
            {
                FailNext = null;
                LastFailure = failure;
                throw failure;
            }
        }
    }
}
