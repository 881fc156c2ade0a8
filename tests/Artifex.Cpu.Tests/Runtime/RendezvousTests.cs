using Artifex.Runtime;

namespace Artifex.Cpu.Tests.Runtime;

/// <summary>
/// The SPMD runtime as a provider author sees it: a backend with its own executor, run on a worker pool. The executor
/// starts once per round and only after everyone agreed; its failure reaches every participant of the round wrapped and
/// naming the collective and axis, and the next round starts clean; an aborted region runs nothing.
/// </summary>
public sealed class RendezvousTests
{
    [Fact]
    public void Run_OneParticipant_StartsTheExecutorOncePerCall()
    {
        using var provider = new CpuProvider(1);
        var backend = new CountingBackend(provider);
        Run(provider, backend, context =>
        {
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([1f, 2f], 2));
            Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data");
            Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data");
        });

        Assert.Equal(2, backend.Starts);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Run_ExecutorThrows_EveryParticipantGetsItWrapped_AndTheNextRoundStartsClean(int devices)
    {
        using var provider = new CpuProvider(devices);
        var backend = new CountingBackend(provider) { FailNext = new InvalidOperationException("the transport broke") };
        var errors = new Exception?[devices];
        Run(provider, backend, context =>
        {
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([1f], 1));
            errors[context.DeviceIndex] = Record.Exception(() => Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data"));
            Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data");
        });

        Assert.All(errors, error =>
        {
            var wrapped = Assert.IsType<InvalidOperationException>(error);
            Assert.Equal("all_reduce over axis 'data' failed: the transport broke", wrapped.Message);
            Assert.Same(backend.LastFailure, wrapped.InnerException);
        });
        Assert.Equal(2, backend.Starts);
    }

    [Fact]
    public void Run_RegionAbortedBeforeTheRoundCompletes_StartsNothing()
    {
        using var provider = new CpuProvider(2);
        var backend = new CountingBackend(provider);
        var error = Assert.Throws<InvalidOperationException>(() => Run(provider, backend, context =>
        {
            if (context.DeviceIndex == 1)
            {
                throw new InvalidOperationException("participant 1 failed");
            }

            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([1f], 1));
            Assert.Throws<OperationCanceledException>(() => Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data"));
        }));

        Assert.Equal("participant 1 failed", error.Message);
        Assert.Equal(0, backend.Starts);
    }

    [Fact]
    public void Run_ParticipateThrowsOnOneRank_ThatRankGetsItWrapped_AndNobodyHangs()
    {
        using var provider = new CpuProvider(3);
        var backend = new CountingBackend(provider) { ParticipateFailsOn = 1 };
        var errors = new Exception?[3];
        Exception? region = RegionFaultTests.RunGuarded(
            () => Run(provider, backend, context =>
            {
                using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([1f], 1));
                errors[context.DeviceIndex] = Record.Exception(() => Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data"));
                Collectives.Barrier("data");
            }),
            "the region");

        Assert.Null(region);
        Assert.Null(errors[0]);
        Assert.Null(errors[2]);
        var wrapped = Assert.IsType<InvalidOperationException>(errors[1]);
        Assert.Equal("all_reduce over axis 'data' failed: rank 1's share failed", wrapped.Message);
    }

    private static void Run(CpuProvider provider, SpmdBackend backend, Action<SpmdContext> body)
    {
        var mesh = new Mesh(provider.Devices, ("data", provider.Devices.Count));
        using var pool = new SpmdWorkerPool(provider.Devices, pinThreads: false);
        pool.Run(new SpmdRegion(mesh, body, backend));
    }

    private sealed class CountingBackend(DeviceProvider provider) : SpmdBackend(provider)
    {
        private int _starts;

        public int Starts => Volatile.Read(ref _starts);

        public Exception? FailNext { get; set; }

        public Exception? LastFailure { get; private set; }

        public int ParticipateFailsOn { get; init; } = -1;

        public override CollectiveExecutor CreateExecutor(Rendezvous rendezvous) => new CountingExecutor(rendezvous, this);

        public override string? GetUnsupportedReason(Type elementType) => null;

        private sealed class CountingExecutor(Rendezvous rendezvous, CountingBackend owner) : CollectiveExecutor(rendezvous)
        {
            public override bool Start()
            {
                Interlocked.Increment(ref owner._starts);
                if (owner.FailNext is { } failure)
                {
                    owner.FailNext = null;
                    owner.LastFailure = failure;
                    throw failure;
                }

                return owner.ParticipateFailsOn >= 0 && owner.Starts == 1;
            }

            public override void Participate(int rank)
            {
                if (rank == owner.ParticipateFailsOn)
                {
                    throw new InvalidOperationException($"rank {rank}'s share failed");
                }
            }
        }
    }
}
