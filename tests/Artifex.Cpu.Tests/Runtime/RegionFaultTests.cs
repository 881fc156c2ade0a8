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

    [Fact]
    public void Dispose_WhileARegionRuns_CancelsItAndFreesNothingInUse()
    {
        var provider = new CpuProvider(2);
        var mesh = new Mesh(provider.Devices, ("data", 2));
        using var running = new CountdownEvent(2);
        Task<Exception?> region = Start(() => provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(new float[100_000], 100_000));
            running.Signal();
            while (true)
            {
                Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data");
            }
        }));
        Assert.True(running.Wait(s_hang, TestContext.Current.CancellationToken), "The region never started.");

        Assert.Null(RunGuarded(provider.Dispose, "Dispose"));

        Assert.True(region.IsCompleted, "Dispose returned before the region it canceled.");
        var canceled = Assert.IsType<OperationCanceledException>(Join(region, "the region"));
        Assert.Equal($"The SPMD region over {mesh} was canceled.", canceled.Message);
        Assert.Equal(0, provider.LiveBufferCount);
        Assert.Throws<ObjectDisposedException>(() => provider.RunSpmd(mesh, _ => { }));
    }

    [Fact]
    public void RunSpmd_TokenCanceled_ReleasesCollectiveWaitersAndBodiesThatWatchIt()
    {
        using var provider = new CpuProvider(2) { CollectiveTimeout = Timeout.InfiniteTimeSpan };
        var mesh = new Mesh(provider.Devices, ("data", 2));
        using var cancellation = new CancellationTokenSource();
        using var waiting = new ManualResetEventSlim();
        Task<Exception?> region = Start(() => provider.RunSpmd(
                mesh,
                context =>
                {
                    if (context.DeviceIndex == 0)
                    {
                        waiting.Set();
                        Collectives.Barrier("data");
                    }
                    else
                    {
                        // User code that never reaches the barrier, but watches the region's token.
                        context.CancellationToken.WaitHandle.WaitOne();
                        context.CancellationToken.ThrowIfCancellationRequested();
                    }
                },
                cancellation.Token));
        Assert.True(waiting.Wait(s_hang, TestContext.Current.CancellationToken), "The region never started.");

        cancellation.Cancel();

        Assert.IsType<OperationCanceledException>(Join(region, "The canceled region"));
        Assert.Null(RunGuarded(() => provider.RunSpmd(mesh, _ => Collectives.Barrier("data")), "the next region"));
    }

    [Fact]
    public void RunSpmd_TokenAlreadyCanceled_ThrowsBeforeRunningAnything()
    {
        using var provider = new CpuProvider(2);
        int ran = 0;

        Assert.Throws<OperationCanceledException>(() => provider.RunSpmd(new Mesh(provider.Devices, ("data", 2)), _ => Interlocked.Increment(ref ran), new CancellationToken(canceled: true)));

        Assert.Equal(0, ran);
    }

    [Fact]
    public void RunSpmd_AsyncLambda_IsRefusedBeforeRunning()
    {
        using var provider = new CpuProvider(2);
        int ran = 0;

        // The mistake under test: the analyzers of this repository flag it, a user's project may not.
#pragma warning disable MA0147
        var error = Assert.Throws<ArgumentException>(() => provider.RunSpmd(new Mesh(provider.Devices, ("data", 2)), async _ =>
        {
            Interlocked.Increment(ref ran);
            await Task.Yield();
            Collectives.Barrier("data");
        }));
#pragma warning restore MA0147

        Assert.Equal("body", error.ParamName);
        Assert.Contains("async lambda", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, ran);
    }

    [Fact]
    public void Collective_FromATaskTheBodyStarted_IsAnErrorNotASecondArrival()
    {
        using var provider = new CpuProvider(2) { CollectiveTimeout = TimeSpan.FromSeconds(30) };
        var mesh = new Mesh(provider.Devices, ("data", 2));
        var errors = new Exception?[2];
        Exception? region = RunGuarded(() => provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([context.DeviceIndex + 1f], 1));
            Task<Exception?> helper = Task.Run(() => Record.Exception(() => Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data")));
            errors[context.DeviceIndex] = helper.GetAwaiter().GetResult();
            Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data");
            Assert.Equal(3f, x.ToArray()[0]);
        }), "the region");

        Assert.Null(region);
        Assert.All(errors, error =>
        {
            var wrong = Assert.IsType<InvalidOperationException>(error);
            Assert.Contains("from another thread than its body's", wrong.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Collective_OutputDisposedByAnotherThreadMeanwhile_NeverWritesTheMemoryOfANewBuffer()
    {
        using var provider = new CpuProvider(2) { CollectiveTimeout = TimeSpan.FromSeconds(30) };
        var mesh = new Mesh(provider.Devices, ("data", 2));
        const int Length = 4096;
        using var entering = new ManualResetEventSlim();
        using var replaced = new ManualResetEventSlim();
        DeviceArray<float>? output = null;
        DeviceArray<float>? newcomer = null;
        Exception? rank0 = null;
        Exception? region = RunGuarded(() => provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(Enumerable.Repeat(1f, Length).ToArray(), Length));
            if (context.DeviceIndex == 0)
            {
                output = DeviceArray.Allocate<float>(context.Device, Length);
                entering.Set();
                rank0 = Record.Exception(() => context.AllReduce(x, output, ReduceOp.Sum, context.GetAxisGroup("data")));
            }
            else
            {
                // Another thread disposes rank 0's output while rank 0 waits here, and allocates a buffer of the same
                // size on the same device, which a memory pool would hand the freed memory.
                Assert.True(entering.Wait(s_hang));
                Thread.Sleep(100);
                output!.Dispose();
                newcomer = DeviceArray.FromHost(provider.Devices[0], new HostArray<float>(Enumerable.Repeat(-7f, Length).ToArray(), Length));
                replaced.Set();
                using DeviceArray<float> y = DeviceArray.Allocate<float>(context.Device, Length);
                context.AllReduce(x, y, ReduceOp.Sum, context.GetAxisGroup("data"));
            }
        }), "the region");

        Assert.Null(region);
        Assert.True(rank0 is null or ObjectDisposedException, $"Rank 0 failed with {rank0}.");
        Assert.All(newcomer!.ToArray(), value => Assert.Equal(-7f, value));
        newcomer.Dispose();
        Assert.Equal(0, provider.LiveBufferCount);
    }

    /// <summary>Runs <paramref name="action"/> on another thread and returns what it threw; fails the test if it never returns.</summary>
    internal static Exception? RunGuarded(Action action, string what) => Join(Start(action), what);

    /// <summary>Starts <paramref name="action"/> on a thread of its own; <see cref="Join"/> gets what it threw.</summary>
    private static Task<Exception?> Start(Action action) =>
        Task.Factory.StartNew(() => Record.Exception(action), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static Exception? Join(Task<Exception?> run, string what)
    {
        Assert.True(run.Wait(s_hang, TestContext.Current.CancellationToken), $"{what} did not return within {s_hang.TotalSeconds} s: a participant is stuck.");
        return run.Result;
    }
}
