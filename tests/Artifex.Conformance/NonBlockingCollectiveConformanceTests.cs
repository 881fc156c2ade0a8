namespace Artifex.Conformance;

/// <summary>
/// Collectives started without waiting (<see cref="CollectiveRequest"/>): the same bits as the blocking ones, the issue
/// order kept when both are mixed, an order mismatch or a missing participant an error rather than a hang, and no
/// allocation in the steady state.
/// </summary>
public abstract class NonBlockingCollectiveConformanceTests : ProviderTestBase
{
    private static readonly int[] s_bucketLengths = [3, 1000, 70_001, 17];

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void StartAllReduce_SeveralInFlight_SameBitsAsBlockingForSumAndMean(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        var mismatches = new int[n];
        provider.RunSpmd(mesh, context =>
        {
            int rank = Collectives.AxisIndex("data");
            foreach (ReduceOp op in new[] { ReduceOp.Sum, ReduceOp.Mean })
            {
                DeviceArray<float>[] started = [.. s_bucketLengths.Select((length, b) => Values(context.Device, length, rank, b))];
                DeviceArray<float>[] blocking = [.. s_bucketLengths.Select((length, b) => Values(context.Device, length, rank, b))];
                try
                {
                    CollectiveRequest[] requests = [.. started.Select(x => Collectives.StartAllReduceInPlace(x, op, "data"))];
                    foreach (CollectiveRequest request in requests)
                    {
                        request.Wait();
                        Assert.True(request.IsCompleted);
                    }

                    foreach (DeviceArray<float> x in blocking)
                    {
                        Collectives.AllReduceInPlace(x, op, "data");
                    }

                    for (int b = 0; b < started.Length; b++)
                    {
                        mismatches[rank] += BitsDiffer(started[b].ToArray(), blocking[b].ToArray()) ? 1 : 0;
                    }
                }
                finally
                {
                    DisposeAll(started);
                    DisposeAll(blocking);
                }
            }
        });

        Assert.All(mismatches, m => Assert.Equal(0, m));
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void StartReduceScatterAndAllGather_SameBitsAsBlocking(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        var mismatches = new int[n];
        provider.RunSpmd(mesh, context =>
        {
            int rank = Collectives.AxisIndex("data");
            using DeviceArray<float> input = Values(context.Device, 1001 * n, rank, 0);
            using DeviceArray<float> block = DeviceArray.Allocate<float>(context.Device, 1001);
            using DeviceArray<float> blockBlocking = DeviceArray.Allocate<float>(context.Device, 1001);
            using DeviceArray<float> gathered = DeviceArray.Allocate<float>(context.Device, 1001 * n);
            using DeviceArray<float> gatheredBlocking = DeviceArray.Allocate<float>(context.Device, 1001 * n);
            CollectiveRequest scatter = Collectives.StartPsumScatter(input, block, "data");
            scatter.Wait();
            CollectiveRequest gather = Collectives.StartAllGather(block, gathered, "data");
            gather.Wait();
            Collectives.PsumScatter(input, blockBlocking, "data");
            Collectives.AllGather(blockBlocking, gatheredBlocking, "data");
            mismatches[rank] += BitsDiffer(block.ToArray(), blockBlocking.ToArray()) ? 1 : 0;
            mismatches[rank] += BitsDiffer(gathered.ToArray(), gatheredBlocking.ToArray()) ? 1 : 0;
        });

        Assert.All(mismatches, m => Assert.Equal(0, m));
    });

    [Theory]
    [MemberData(nameof(MultiDeviceCounts))]
    public void BlockingCollectiveAfterStarted_RunsAfterItInIssueOrder(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        var results = new float[n][];
        provider.RunSpmd(mesh, context =>
        {
            int rank = Collectives.AxisIndex("data");
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([rank + 1f], 1));
            using DeviceArray<float> y = DeviceArray.FromHost(context.Device, new HostArray<float>([10f * (rank + 1)], 1));

            // Same shapes, so a swapped order would go unnoticed by the agreement check: the values tell.
            CollectiveRequest first = Collectives.StartAllReduceInPlace(x, ReduceOp.Sum, "data");
            Collectives.AllReduceInPlace(y, ReduceOp.Max, "data");
            first.Wait();
            results[rank] = [x.ToArray()[0], y.ToArray()[0]];
        });

        float sum = n * (n + 1) / 2f;
        Assert.All(results, r => Assert.Equal([sum, 10f * n], r));
    });

    [Theory]
    [MemberData(nameof(MultiDeviceCounts))]
    public void StartAllReduce_ParticipantsStartInDifferentOrder_EveryWaitThrowsTheDisagreement(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        var waitErrors = new Exception?[n];
        provider.RunSpmd(mesh, context =>
        {
            int rank = Collectives.AxisIndex("data");
            using DeviceArray<float> small = DeviceArray.Allocate<float>(context.Device, 10);
            using DeviceArray<float> large = DeviceArray.Allocate<float>(context.Device, 20);
            (DeviceArray<float> a, DeviceArray<float> b) = rank == 0 ? (large, small) : (small, large);
            CollectiveRequest ra = Collectives.StartAllReduceInPlace(a, ReduceOp.Sum, "data");
            CollectiveRequest rb = Collectives.StartAllReduceInPlace(b, ReduceOp.Sum, "data");
            waitErrors[rank] = Record.Exception(ra.Wait);
            Assert.Throws<ArgumentException>(rb.Wait);
        });

        Assert.All(waitErrors, e => Assert.Contains("element count", Assert.IsType<ArgumentException>(e).Message, StringComparison.Ordinal));
    });

    [Fact]
    public void StartAllReduce_AParticipantNeverStartsIt_TimesOutInsteadOfHanging() => WithProvider(2, provider =>
    {
        provider.CollectiveTimeout = TimeSpan.FromMilliseconds(300);
        var mesh = new Mesh(provider.Devices, ("data", 2));
        Exception error = Assert.ThrowsAny<Exception>(() => provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<float> x = DeviceArray.Allocate<float>(context.Device, 4);
            if (Collectives.AxisIndex("data") == 0)
            {
                Collectives.StartAllReduceInPlace(x, ReduceOp.Sum, "data").Wait();
            }
        }));

        Assert.IsType<TimeoutException>(error);
        Assert.Contains("rank 1", error.Message, StringComparison.Ordinal);
    });

    [Theory]
    [MemberData(nameof(MultiDeviceCounts))]
    public void StartAllReduce_FailureNobodyWaitsFor_FailsTheRegionWhenTheBodyReturns(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        ArgumentException error = Assert.Throws<ArgumentException>(() => provider.RunSpmd(mesh, context =>
        {
            int rank = Collectives.AxisIndex("data");
            var x = DeviceArray.Allocate<float>(context.Device, rank == 0 ? 3 : 5);
            _ = Collectives.StartAllReduceInPlace(x, ReduceOp.Sum, "data");

            // Disposed while in flight: the memory stays until the collective is over, then goes.
            x.Dispose();
        }));

        Assert.Contains("element count", error.Message, StringComparison.Ordinal);
    });

    [Theory]
    [MemberData(nameof(MultiDeviceCounts))]
    public void StartAllReduce_ParticipantThrowsWhileOthersWait_RegionReportsItsFailure(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        var thrown = new InvalidDataException("participant 1 failed");
        Exception error = Assert.ThrowsAny<Exception>(() => provider.RunSpmd(mesh, context =>
        {
            int rank = Collectives.AxisIndex("data");
            using DeviceArray<float> x = DeviceArray.Allocate<float>(context.Device, 64);
            if (rank == 1)
            {
                throw thrown;
            }

            Collectives.StartAllReduceInPlace(x, ReduceOp.Sum, "data").Wait();
        }));

        Assert.Same(thrown, error);
    });

    [Fact]
    public void StartAllReduce_SteadyState_AllocatesNothingOnTheParticipant() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2));
        var allocated = new long[] { long.MaxValue, long.MaxValue };
        provider.RunSpmd(mesh, context =>
        {
            int rank = Collectives.AxisIndex("data");
            DeviceArray<float>[] buckets = [.. s_bucketLengths.Select((length, b) => Values(context.Device, length, rank, b))];
            var requests = new CollectiveRequest[buckets.Length];
            try
            {
                for (int round = 0; round < 20; round++)
                {
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    for (int b = 0; b < buckets.Length; b++)
                    {
                        requests[b] = Collectives.StartAllReduceInPlace(buckets[b], ReduceOp.Mean, "data");
                    }

                    foreach (CollectiveRequest request in requests)
                    {
                        request.Wait();
                    }

                    allocated[rank] = Math.Min(allocated[rank], GC.GetAllocatedBytesForCurrentThread() - before);
                }
            }
            finally
            {
                DisposeAll(buckets);
            }
        });

        // The fewest bytes of any round: a per-round allocation shows in every round, while a garbage collection that other
        // threads cause can charge a thread the unused rest of its allocation buffer once.
        Assert.All(allocated, bytes => Assert.Equal(0, bytes));
    });

    /// <summary>Device counts where participants can disagree or wait for each other.</summary>
    public static TheoryData<int> MultiDeviceCounts => [2, 4, 8];

    private static DeviceArray<float> Values(Device device, int length, int rank, int salt)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            // Mixed magnitudes, so a different summation order would change the bits.
            values[i] = ((((i * 7919) + (rank * 104729) + (salt * 13)) % 2001) - 1000) * (i % 3 == 0 ? 1e-3f : 1.37f);
        }

        return DeviceArray.FromHost(device, new HostArray<float>(values, length));
    }

    private static bool BitsDiffer(float[] a, float[] b) =>
        !a.Select(BitConverter.SingleToInt32Bits).SequenceEqual(b.Select(BitConverter.SingleToInt32Bits));

    private static void DisposeAll(IEnumerable<DeviceArray> arrays)
    {
        foreach (DeviceArray array in arrays)
        {
            array.Dispose();
        }
    }
}
