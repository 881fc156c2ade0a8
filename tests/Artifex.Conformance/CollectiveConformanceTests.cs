using System.Diagnostics;

namespace Artifex.Conformance;

/// <summary>SPMD regions and collectives: values on every device, errors, faults and timeouts.</summary>
public abstract class CollectiveConformanceTests : ProviderTestBase
{
    public static TheoryData<int, int> LengthsAndDevices => new()
    {
        { 0, 2 }, { 1, 2 }, { 15, 4 }, { 16, 4 }, { 17, 8 }, { 1023, 3 }, { 8193, 2 }, { 100_003, 4 },
    };

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void PsumPmean_PerDeviceValues_EveryDeviceGetsSumAndMean(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        var sums = new float[n][];
        var means = new float[n][];
        provider.RunSpmd(mesh, context =>
        {
            int rank = Collectives.AxisIndex("data");
            Assert.Equal(n, Collectives.AxisSize("data"));
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([rank + 1f, -(rank + 1f), 0.5f], 3));
            using DeviceArray<float> sum = Collectives.Psum(x, "data");
            using DeviceArray<float> mean = Collectives.Pmean(x, "data");
            sums[rank] = sum.ToArray();
            means[rank] = mean.ToArray();
        });
        float total = n * (n + 1) / 2f;
        Assert.All(sums, s => Assert.Equal([total, -total, 0.5f * n], s));
        Assert.All(means, m => Assert.Equal([total / n, -total / n, 0.5f], m));
    });

    [Fact]
    public void AllReduce_OneToFour_MeanIsTwoPointFiveAndSumIsTenEverywhere() => WithProvider(4, provider =>
    {
        double[][] results = RunOnValues(provider, [1.0, 2.0, 3.0, 4.0], ReduceOp.Mean);
        Assert.All(results, r => Assert.Equal([2.5], r));
        results = RunOnValues(provider, [1.0, 2.0, 3.0, 4.0], ReduceOp.Sum);
        Assert.All(results, r => Assert.Equal([10.0], r));
        results = RunOnValues(provider, [1.0, 7.0, 3.0, -4.0], ReduceOp.Max);
        Assert.All(results, r => Assert.Equal([7.0], r));
        results = RunOnValues(provider, [1.0, 7.0, 3.0, -4.0], ReduceOp.Min);
        Assert.All(results, r => Assert.Equal([-4.0], r));
    });

    [Theory]
    [InlineData(ReduceOp.Sum)]
    [InlineData(ReduceOp.Max)]
    [InlineData(ReduceOp.Min)]
    public void AllReduce_Integers_MatchReference(ReduceOp op) => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 4));
        var ints = new int[4][];
        var longs = new long[4][];
        provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            using DeviceArray<int> a = DeviceArray.FromHost(context.Device, new HostArray<int>([r, -r * 3, int.MaxValue / 8], 3));
            using DeviceArray<long> b = DeviceArray.FromHost(context.Device, new HostArray<long>([r * 1_000_000_000_000L, 5 - r], 2));
            Collectives.AllReduceInPlace(a, op, "data");
            Collectives.AllReduceInPlace(b, op, "data");
            ints[r] = a.ToArray();
            longs[r] = b.ToArray();
        });
        int[] expectedInts = op switch
        {
            ReduceOp.Sum => [6, -18, int.MaxValue / 8 * 4],
            ReduceOp.Max => [3, 0, int.MaxValue / 8],
            _ => [0, -9, int.MaxValue / 8],
        };
        long[] expectedLongs = op switch
        {
            ReduceOp.Sum => [6_000_000_000_000L, 14],
            ReduceOp.Max => [3_000_000_000_000L, 5],
            _ => [0, 2],
        };
        Assert.All(ints, v => Assert.Equal(expectedInts, v));
        Assert.All(longs, v => Assert.Equal(expectedLongs, v));
    });

    [Fact]
    public void Pmean_Integers_ThrowsExplainingFloatResult() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2));
        Exception error = Assert.ThrowsAny<ArgumentException>(() => provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<int> a = DeviceArray.FromHost(context.Device, new HostArray<int>([1], 1));
            Collectives.AllReduceInPlace(a, ReduceOp.Mean, "data");
        }));
        Assert.Contains("pmean returns floats", error.Message, StringComparison.Ordinal);
    });

    [Fact]
    public void MaxMin_NaNAndSignedZero_FollowIeee2019() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2));
        var max = new float[2][];
        var min = new float[2][];
        float[][] inputs = [[float.NaN, 0f, -0f, 1f], [2f, -0f, 0f, float.NaN]];
        provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(inputs[r], 4));
            using DeviceArray<float> hi = Collectives.Pmax(x, "data");
            using DeviceArray<float> lo = Collectives.Pmin(x, "data");
            max[r] = hi.ToArray();
            min[r] = lo.ToArray();
        });
        foreach (float[] m in max)
        {
            Assert.True(float.IsNaN(m[0]) && float.IsNaN(m[3]));
            Assert.True(float.IsPositive(m[1]) && m[1] == 0 && float.IsPositive(m[2]));
        }

        foreach (float[] m in min)
        {
            Assert.True(float.IsNaN(m[0]) && float.IsNaN(m[3]));
            Assert.True(float.IsNegative(m[1]) && float.IsNegative(m[2]));
        }
    });

    [Theory]
    [MemberData(nameof(LengthsAndDevices))]
    public void AllReduce_InPlaceAndOutOfPlace_BitsEqualRankOrderReference(int length, int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        float[][] inputs = [.. Enumerable.Range(0, n).Select(r => RandomValues(length, seed: 17 + r))];
        float[] expectedSum = RankOrder(inputs, static (a, b) => a + b);
        var inPlace = new float[n][];
        var outOfPlace = new float[n][];
        var means = new float[n][];
        provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            AxisGroup group = context.GetAxisGroup("data");
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(inputs[r], length));
            using DeviceArray<float> y = DeviceArray.Allocate<float>(context.Device, length);
            using DeviceArray<float> z = DeviceArray.Allocate<float>(context.Device, length);
            context.AllReduce(x, y, ReduceOp.Sum, group);
            context.AllReduce(x, z, ReduceOp.Mean, group);
            Assert.Equal(inputs[r], x.ToArray());
            context.AllReduce(x, x, ReduceOp.Sum, group);
            inPlace[r] = x.ToArray();
            outOfPlace[r] = y.ToArray();
            means[r] = z.ToArray();
        });
        float[] expectedMean = [.. expectedSum.Select(s => s / n)];
        Assert.All(inPlace, v => Assert.Equal(Bits(expectedSum), Bits(v)));
        Assert.All(outOfPlace, v => Assert.Equal(Bits(expectedSum), Bits(v)));
        Assert.All(means, v => Assert.Equal(Bits(expectedMean), Bits(v)));
    });

    [Fact]
    public void AllReduce_TwoDimensionalMesh_ReducesWithinEachOtherCoordinate() => WithProvider(8, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2), ("model", 4));
        var overData = new double[8];
        var overModel = new double[8];
        var overBoth = new double[8];
        var tupleIndex = new int[8];
        provider.RunSpmd(mesh, context =>
        {
            int d = Collectives.AxisIndex("data");
            int m = Collectives.AxisIndex("model");
            Assert.Equal((2, 4), (Collectives.AxisSize("data"), Collectives.AxisSize("model")));
            double value = (10 * d) + m;
            using DeviceArray<double> x = DeviceArray.FromHost(context.Device, new HostArray<double>([value], 1));
            using DeviceArray a = Collectives.AllReduce(x, ReduceOp.Sum, "data");
            using DeviceArray b = Collectives.AllReduce(x, ReduceOp.Sum, "model");
            using DeviceArray c = Collectives.AllReduce(x, ReduceOp.Sum, ["model", "data"]);
            overData[context.DeviceIndex] = ((DeviceArray<double>)a).ToArray()[0];
            overModel[context.DeviceIndex] = ((DeviceArray<double>)b).ToArray()[0];
            overBoth[context.DeviceIndex] = ((DeviceArray<double>)c).ToArray()[0];
            tupleIndex[context.DeviceIndex] = context.GetAxisGroup(["model", "data"]).Rank;
        });
        for (int k = 0; k < 8; k++)
        {
            int d = k / 4;
            int m = k % 4;
            Assert.Equal(10 + (2.0 * m), overData[k]);
            Assert.Equal((40.0 * d) + 6, overModel[k]);
            Assert.Equal(52.0, overBoth[k]);
            Assert.Equal((m * 2) + d, tupleIndex[k]);
        }
    });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AllGather_StackedAndTiled_RankOrder(bool tiled) => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 4));
        var shapes = new long[4][];
        var values = new int[4][];
        provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            using DeviceArray<int> x = DeviceArray.FromHost(context.Device, new HostArray<int>([r * 10, (r * 10) + 1], 2));
            using DeviceArray gathered = Collectives.AllGather(x, "data", tiled);
            shapes[r] = [.. gathered.Shape];
            values[r] = ((DeviceArray<int>)gathered).ToArray();
        });
        Assert.All(shapes, s => Assert.Equal(tiled ? [8L] : [4L, 2], s));
        Assert.All(values, v => Assert.Equal([0, 1, 10, 11, 20, 21, 30, 31], v));
    });

    [Fact]
    public void PsumScatter_KeepsOwnBlockOfSum() => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 4));
        var blocks = new float[4][];
        provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([.. Enumerable.Range(0, 8).Select(i => (float)(i * (r + 1)))], 8));
            using DeviceArray block = Collectives.PsumScatter(x, "data");
            Assert.Equal([2L], block.Shape);
            blocks[r] = ((DeviceArray<float>)block).ToArray();
            using DeviceArray<float> odd = DeviceArray.FromHost(context.Device, new HostArray<float>([1, 2, 3], 3));
            ArgumentException error = Assert.Throws<ArgumentException>(() => Collectives.PsumScatter(odd, "data"));
            Assert.Contains("divisible by 4", error.Message, StringComparison.Ordinal);
        });
        for (int r = 0; r < 4; r++)
        {
            Assert.Equal([10f * 2 * r, 10f * ((2 * r) + 1)], blocks[r]);
        }
    });

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Broadcast_FromRoot_EveryDeviceGetsRootValue(int root) => WithProvider(3, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 3));
        var values = new long[3][];
        provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            using DeviceArray<long> x = DeviceArray.FromHost(context.Device, new HostArray<long>([r, r * 100], 2));
            using DeviceArray b = Collectives.Broadcast(x, root, "data");
            Collectives.Barrier("data");
            values[r] = ((DeviceArray<long>)b).ToArray();
        });
        Assert.All(values, v => Assert.Equal([root, root * 100L], v));
    });

    [Fact]
    public void Psum_OutsideRegion_ThrowsUnboundAxisName()
    {
        Assert.Null(SpmdContext.Current);
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => Collectives.AxisIndex("batch"));
        Assert.StartsWith("unbound axis name: batch", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Psum_AxisNotBoundByRegion_ThrowsListingBoundNames() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2));
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([1f], 1));
            using DeviceArray<float> y = Collectives.Psum(x, "batch");
        }));
        Assert.StartsWith("unbound axis name: batch", error.Message, StringComparison.Ordinal);
        Assert.Contains("['data']", error.Message, StringComparison.Ordinal);
    });

    [Fact]
    public void AllReduce_ParticipantsDisagreeOnLength_AllGetArgumentExceptionAndNothingChanges() => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 4));
        var errors = new Exception?[4];
        var after = new float[4][];
        ArgumentException thrown = Assert.Throws<ArgumentException>(() => provider.RunSpmd(mesh, context =>
        {
            int r = context.DeviceIndex;
            int length = r == 2 ? 4 : 8;
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(RandomValues(length, r), length));
            try
            {
                Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data");
            }
            catch (ArgumentException error)
            {
                errors[r] = error;
                after[r] = x.ToArray();
                throw;
            }
        }));
        Assert.Contains("axis 'data'", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("ranks 0, 1, 3 have 8; rank 2 has 4", thrown.Message, StringComparison.Ordinal);
        Assert.All(errors, e => Assert.IsType<ArgumentException>(e));
        for (int r = 0; r < 4; r++)
        {
            Assert.Equal(RandomValues(r == 2 ? 4 : 8, r), after[r]);
        }

        Assert.Equal([2.0], RunOnValues(provider, [0.5, 0.5, 0.5, 0.5], ReduceOp.Sum)[0]);
    });

    [Fact]
    public void RunSpmd_OneBodyThrows_OthersReleasedWithOriginalAndRegionRethrows() => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 4));
        var released = new Exception?[4];
        var clock = Stopwatch.StartNew();
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => provider.RunSpmd(mesh, context =>
        {
            if (context.DeviceIndex == 1)
            {
                Thread.Sleep(50);
                throw new InvalidOperationException("boom");
            }

            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([1f], 1));
            try
            {
                Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data");
            }
            catch (OperationCanceledException canceled)
            {
                released[context.DeviceIndex] = canceled;
                throw;
            }
        }));
        Assert.Equal("boom", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        foreach (int r in new[] { 0, 2, 3 })
        {
            OperationCanceledException canceled = Assert.IsType<OperationCanceledException>(released[r]);
            Assert.Same(error, canceled.InnerException);
        }

        Assert.Equal([4.0], RunOnValues(provider, [1, 1, 1, 1], ReduceOp.Sum)[3]);
    });

    [Fact]
    public void AllReduce_RankNeverArrives_TimesOutNamingAxisAndRank() => WithProvider(4, provider =>
    {
        provider.CollectiveTimeout = TimeSpan.FromMilliseconds(300);
        var mesh = new Mesh(provider.Devices, ("data", 4));
        var clock = Stopwatch.StartNew();
        TimeoutException error = Assert.Throws<TimeoutException>(() => provider.RunSpmd(mesh, context =>
        {
            if (context.DeviceIndex == 2)
            {
                return;
            }

            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([1f], 1));
            Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data");
        }));
        Assert.Contains("axis 'data'", error.Message, StringComparison.Ordinal);
        Assert.Contains("rank 2 of 4", error.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        provider.CollectiveTimeout = TimeSpan.FromSeconds(60);
        Assert.Equal([4.0], RunOnValues(provider, [1, 1, 1, 1], ReduceOp.Sum)[0]);
    });

    [Fact]
    public void RunSpmd_NestedOnSameDevices_Throws() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2));
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => provider.RunSpmd(mesh, _ => provider.RunSpmd(mesh, _ => { })));
        Assert.Contains("already running an SPMD region", error.Message, StringComparison.Ordinal);
        Assert.Equal([2.0], RunOnValues(provider, [1, 1], ReduceOp.Sum)[1]);
    });

    [Fact]
    public void ShardMap_PsumOfLocalBlocks_ReplicatedAndShardedOutputs() => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 4));
        float[] data = Iota(8 * 3);
        Tree<GlobalArray> inputs = Tree.Leaf<GlobalArray>(GlobalArray.DevicePut(new HostArray<float>(data, 8, 3), new NamedSharding(mesh, new PartitionSpec("data"))));
        Tree<GlobalArray> summed = Spmd.ShardMap(mesh, inputs, new PartitionSpec("data"), PartitionSpec.Replicated, (_, local) =>
            Tree.Leaf(Collectives.AllReduce(local.Value, ReduceOp.Sum, "data")));
        Tree<GlobalArray> doubled = Spmd.ShardMap(mesh, inputs, new PartitionSpec("data"), new PartitionSpec("data"), (_, local) => local);
        try
        {
            var sum = (GlobalArray<float>)summed.Value;
            Assert.Equal([2L, 3], sum.Shape);
            float[] expected = [.. Enumerable.Range(0, 6).Select(i => data[i] + data[i + 6] + data[i + 12] + data[i + 18])];
            Assert.Equal(expected, sum.ToArray());
            Assert.Equal(data, ((GlobalArray<float>)doubled.Value).ToArray());
        }
        finally
        {
            summed.DisposeLeaves();
            doubled.DisposeLeaves();
            inputs.DisposeLeaves();
        }
    });

    [Fact]
    public void ShardMap_InputLaidOutDifferently_IsResharded() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2));
        Tree<GlobalArray> inputs = Tree.Leaf<GlobalArray>(GlobalArray.DevicePut(new HostArray<float>(Iota(4), 4), new NamedSharding(mesh, PartitionSpec.Replicated)));
        Tree<GlobalArray> outputs = Spmd.ShardMap(mesh, inputs, new PartitionSpec("data"), new PartitionSpec("data"), (_, local) =>
        {
            Assert.Equal([2L], local.Value.Shape);
            return Tree.Leaf(local.Value.Clone());
        });
        Assert.Equal(Iota(4), ((GlobalArray<float>)outputs.Value).ToArray());
        outputs.DisposeLeaves();
        inputs.DisposeLeaves();
    });

    [Fact]
    public void ShardMap_DevicesReturnDifferentShapes_Throws() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2));
        Tree<GlobalArray> inputs = Tree.Empty<GlobalArray>();
        ArgumentException error = Assert.Throws<ArgumentException>(() => Spmd.ShardMap(mesh, inputs, PartitionSpec.Replicated, PartitionSpec.Replicated, (context, _) =>
            Tree.Leaf<DeviceArray>(DeviceArray.Allocate<float>(context.Device, context.DeviceIndex + 1))));
        Assert.Contains("every device must return", error.Message, StringComparison.Ordinal);
    });

    [Fact]
    public void PMap_PsumOverBatch_StacksOutputs() => WithProvider(4, provider =>
    {
        Tree<HostArray> inputs = Tree.Leaf(HostArray.From(Iota(4 * 3), 4, 3));
        Tree<GlobalArray> outputs = Spmd.PMap(provider, "batch", inputs, (_, local) =>
        {
            Assert.Equal([3L], local.Value.Shape);
            return Tree.Leaf(Collectives.AllReduce(local.Value, ReduceOp.Sum, "batch"));
        });
        var result = (GlobalArray<float>)outputs.Value;
        Assert.Equal([4L, 3], result.Shape);
        float[] column = [18f, 22f, 26f];
        Assert.Equal([.. column, .. column, .. column, .. column], result.ToArray());
        outputs.DisposeLeaves();
        ArgumentException error = Assert.Throws<ArgumentException>(() => Spmd.PMap(provider, "batch", Tree.Leaf(HostArray.From(Iota(5), 5)), (_, l) => l));
        Assert.Contains("requires 5 logical devices", error.Message, StringComparison.Ordinal);
    });

    [Fact]
    public void AllReduceShards_HostIssued_EachShardBecomesGroupSum() => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2), ("model", 2));
        using GlobalArray<float> grads = GlobalArray.DevicePut(new HostArray<float>(Iota(4 * 3), 4, 3), new NamedSharding(mesh, new PartitionSpec(("data", "model"))));
        provider.AllReduceShards(grads, ReduceOp.Sum, "data");
        float[] all = grads.ToArray();
        for (int m = 0; m < 2; m++)
        {
            for (int c = 0; c < 3; c++)
            {
                float expected = (3 * m) + c + (3 * (m + 2)) + c;
                Assert.Equal(expected, all[(m * 3) + c]);
                Assert.Equal(expected, all[((m + 2) * 3) + c]);
            }
        }

        Assert.Throws<ArgumentException>(() => provider.AllReduceShards(grads, ReduceOp.Sum, "batch"));
        using GlobalArray<float> single = GlobalArray.DevicePut(new HostArray<float>([1f], 1), new SingleDeviceSharding(provider.Devices[0]));
        Assert.Throws<ArgumentException>(() => provider.AllReduceShards(single, ReduceOp.Sum, "data"));
    });

    protected static float[] RandomValues(int length, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(i => i % 3 == 0 ? (float)((random.NextDouble() - 0.5) * 2e6) : (float)((random.NextDouble() - 0.5) * 2e-3))];
    }

    protected static float[] RankOrder(float[][] inputs, Func<float, float, float> op) =>
        [.. Enumerable.Range(0, inputs[0].Length).Select(i => inputs.Skip(1).Aggregate(inputs[0][i], (acc, x) => op(acc, x[i])))];

    protected static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    private static double[][] RunOnValues(DeviceProvider provider, double[] perDevice, ReduceOp op)
    {
        int n = perDevice.Length;
        var mesh = new Mesh(provider.Devices.Take(n), ("data", n));
        var results = new double[n][];
        provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<double> x = DeviceArray.FromHost(context.Device, new HostArray<double>([perDevice[context.DeviceIndex]], 1));
            Collectives.AllReduceInPlace(x, op, "data");
            results[context.DeviceIndex] = x.ToArray();
        });
        return results;
    }
}
