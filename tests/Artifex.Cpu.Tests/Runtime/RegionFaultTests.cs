namespace Artifex.Cpu.Tests.Runtime;

/// <summary>
/// Faults that used to hang or crash a region: every one must end with an exception on the caller, the devices free
/// and the provider usable. Each region runs under a generous watchdog, so a regression fails instead of hanging the run.
/// </summary>
public sealed class RegionFaultTests
{
    private static readonly TimeSpan s_hang = TimeSpan.FromSeconds(60);

    [Fact]
    public void RunSpmd_WaitersTimingOutTogether_AllLeaveAndTheRegionReportsTheTimeout()
    {
        // Seven waiters share a 1 ms deadline on an oversubscribed machine, so they reach it together: the one that sees
        // the region already aborted by another must still withdraw, not wait for a participant that never comes.
        using var provider = new CpuProvider(8) { CollectiveTimeout = TimeSpan.FromMilliseconds(1) };
        var mesh = new Mesh(provider.Devices, ("data", 8));
        for (int round = 0; round < 400; round++)
        {
            Exception? error = RunGuarded(() => provider.RunSpmd(mesh, context =>
            {
                if (context.DeviceIndex != 7)
                {
                    Collectives.Barrier("data");
                }
            }), $"round {round}");

            var timeout = Assert.IsType<TimeoutException>(error);
            Assert.Matches(@"\branks? (\d+, )*7 of 8", timeout.Message);
        }

        provider.CollectiveTimeout = TimeSpan.FromSeconds(60);
        Assert.Null(RunGuarded(() => provider.RunSpmd(mesh, _ => Collectives.Barrier("data")), "the region after the timeouts"));
    }

    [Fact]
    public void BroadcastAndAllGather_ElementsLargerThanAChunk_RunInsteadOfFailingAfterEveryoneArrived()
    {
        // A 40,000-byte element is larger than a collective chunk: planning used to divide by zero after the last
        // participant arrived, and the others waited for the round forever.
        using var provider = new CpuProvider(2);
        var mesh = new Mesh(provider.Devices, ("data", 2));
        var broadcast = new WideElement[2][];
        var gathered = new WideElement[2][];
        Exception? error = RunGuarded(() => provider.RunSpmd(mesh, context =>
        {
            var values = new WideElement[3];
            for (int i = 0; i < values.Length; i++)
            {
                values[i][0] = (10 * context.DeviceIndex) + i;
                values[i][WideElement.Length - 1] = -values[i][0];
            }

            using DeviceArray<WideElement> x = DeviceArray.FromHost(context.Device, new HostArray<WideElement>(values, values.Length));
            using DeviceArray<WideElement> b = Collectives.Broadcast(x, 1, "data").As<WideElement>();
            using DeviceArray<WideElement> g = Collectives.AllGather(x, "data", tiled: true).As<WideElement>();
            broadcast[context.DeviceIndex] = b.ToArray();
            gathered[context.DeviceIndex] = g.ToArray();
        }), "the region");

        Assert.Null(error);
        for (int device = 0; device < 2; device++)
        {
            Assert.Equal([10f, 11f, 12f], broadcast[device].Select(static e => e[0]));
            Assert.Equal([0f, 1f, 2f, 10f, 11f, 12f], gathered[device].Select(static e => e[0]));
            Assert.Equal([0f, -1f, -2f, -10f, -11f, -12f], gathered[device].Select(static e => e[WideElement.Length - 1]));
        }
    }

    /// <summary>Runs <paramref name="action"/> on another thread and returns what it threw; fails the test if it never returns.</summary>
    internal static Exception? RunGuarded(Action action, string what)
    {
        Task<Exception?> run = Task.Factory.StartNew(() => Record.Exception(action), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(run.Wait(s_hang, TestContext.Current.CancellationToken), $"{what} did not return within {s_hang.TotalSeconds} s: a participant is stuck.");
        return run.Result;
    }
}
