using System.Diagnostics;
using System.Numerics;

namespace Artifex.Conformance;

/// <summary>SPMD regions and collectives: values on every device, errors, faults and timeouts.</summary>
public abstract class CollectiveConformanceTests : ProviderTestBase
{
    private static readonly int[] s_lengths = [0, 1, 15, 16, 17, 1023, 8193, 100003];
    private static readonly ReduceOp[] s_allOps = [ReduceOp.Sum, ReduceOp.Mean, ReduceOp.Max, ReduceOp.Min];
    private static readonly ReduceOp[] s_integerOps = [ReduceOp.Sum, ReduceOp.Max, ReduceOp.Min];
    private static readonly string[] s_data = ["data"];

    public static TheoryData<int, int> LengthsAndDevices => new()
    {
        { 0, 2 }, { 1, 2 }, { 15, 4 }, { 16, 4 }, { 17, 8 }, { 1023, 3 }, { 8193, 2 }, { 100_003, 4 },
    };

    /// <summary>Device counts where participants can disagree or wait for each other.</summary>
    public static TheoryData<int> MultiDeviceCounts => [2, 4, 8];

    /// <summary>The (data, model) meshes.</summary>
    public static TheoryData<int, int> MeshShapes => new() { { 2, 2 }, { 2, 4 } };

    /// <summary>Device count and what participant 0 disagrees on.</summary>
    public static TheoryData<int, string> Disagreements
    {
        get
        {
            var data = new TheoryData<int, string>();
            foreach (int n in new[] { 2, 4, 8 })
            {
                foreach (string what in new[] { "shape", "type", "op", "root", "collective" })
                {
                    data.Add(n, what);
                }
            }

            return data;
        }
    }

    /// <summary>Device count and how many collectives succeed before participant 1 throws.</summary>
    public static TheoryData<int, int> FaultCases => new() { { 2, 0 }, { 4, 0 }, { 4, 3 }, { 8, 3 } };

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void AllReduce_RankPlusOneScalars_EveryDeviceGetsSumMeanMaxMinForEveryType(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        var floats = new float[n][];
        var doubles = new double[n][];
        var ints = new int[n][];
        var longs = new long[n][];
        var inRegion = new bool[n];
        provider.RunSpmd(mesh, context =>
        {
            int rank = Collectives.AxisIndex("data");
            inRegion[rank] = ReferenceEquals(SpmdContext.Current, context) && context.Device == provider.Devices[rank];
            floats[rank] = ReduceScalar(context.Device, rank + 1f, s_allOps);
            doubles[rank] = ReduceScalar(context.Device, rank + 1.0, s_allOps);
            ints[rank] = ReduceScalar(context.Device, rank + 1, s_integerOps);
            longs[rank] = ReduceScalar(context.Device, rank + 1 + (1L << 40), s_integerOps);
        });
        Assert.Null(SpmdContext.Current);
        Assert.All(inRegion, Assert.True);

        // For 4 devices: values 1, 2, 3, 4 give sum 10 and mean 2.5 on every device.
        int total = n * (n + 1) / 2;
        Assert.All(floats, r => Assert.Equal([total, total / (float)n, n, 1f], r));
        Assert.All(doubles, r => Assert.Equal([total, total / (double)n, n, 1.0], r));
        Assert.All(ints, r => Assert.Equal([total, n, 1], r));
        Assert.All(longs, r => Assert.Equal([total + (n * (1L << 40)), n + (1L << 40), 1 + (1L << 40)], r));
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void AllReduce_Float_InPlaceAndOutOfPlaceAllLengths_BitEqualToRankOrderReference(int n) =>
        CheckAllReduceBits(n, CollectiveReference.MixedFloats, s_allOps);

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void AllReduce_Double_InPlaceAndOutOfPlaceAllLengths_BitEqualToRankOrderReference(int n) =>
        CheckAllReduceBits(n, CollectiveReference.MixedDoubles, s_allOps);

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void AllReduce_Int32_InPlaceAndOutOfPlaceAllLengths_EqualToReference(int n) =>
        CheckAllReduceBits(n, CollectiveReference.Ints, s_integerOps);

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void AllReduce_Int64_InPlaceAndOutOfPlaceAllLengths_EqualToReference(int n) =>
        CheckAllReduceBits(n, CollectiveReference.Longs, s_integerOps);

    [Fact]
    public void RankOrderReference_MixedMagnitudes_DependsOnOrder()
    {
        // Guards the bit-exact tests: with these values a reduction in any other order would give other bits.
        var random = new Random(3);
        float[][] inputs = [.. Enumerable.Range(0, 8).Select(_ => CollectiveReference.MixedFloats(random, 1023))];
        float[] forward = CollectiveReference.Reduce(inputs, [0, 1, 2, 3, 4, 5, 6, 7], ReduceOp.Sum);
        float[] backward = CollectiveReference.Reduce(inputs, [7, 6, 5, 4, 3, 2, 1, 0], ReduceOp.Sum);
        Assert.NotEqual(forward, backward);
    }

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void PmaxPmin_NaNAndSignedZeros_NaNPropagatesAndPlusZeroIsAboveMinusZero(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        const int length = 67; // four 16-float vectors and a tail of 3
        var inputs = new float[n][];
        var expectedMax = new float[length];
        var expectedMin = new float[length];
        for (int k = 0; k < n; k++)
        {
            inputs[k] = new float[length];
        }

        for (int i = 0; i < length; i++)
        {
            int special = (i / 5) % n; // the rank that holds the odd value out
            for (int k = 0; k < n; k++)
            {
                inputs[k][i] = (i % 5) switch
                {
                    0 => k == special ? float.NaN : (k % 2 == 0 ? float.PositiveInfinity : float.NegativeInfinity),
                    1 => k == special ? 0f : -0f,
                    2 => -0f,
                    3 => 0f,
                    _ => k - (1.5f * (i % 3)) + (0.25f * i),
                };
            }

            (expectedMax[i], expectedMin[i]) = (i % 5) switch
            {
                0 => (float.NaN, float.NaN),
                1 => (0f, n > 1 ? -0f : 0f),
                2 => (-0f, -0f),
                3 => (0f, 0f),
                _ => (n - 1 - (1.5f * (i % 3)) + (0.25f * i), -(1.5f * (i % 3)) + (0.25f * i)),
            };
        }

        float[][] max = AllReduceOnEveryDevice(provider, mesh, inputs, ReduceOp.Max, s_data, inPlace: false);
        float[][] min = AllReduceOnEveryDevice(provider, mesh, inputs, ReduceOp.Min, s_data, inPlace: true);
        for (int k = 0; k < n; k++)
        {
            AssertSameFloats(expectedMax, max[k], $"pmax on device {k}");
            AssertSameFloats(expectedMin, min[k], $"pmin on device {k}");
        }
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void Pmean_IntegerElements_ThrowsArgumentExceptionPointingToFloats(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        var messages = new string[2 * n];
        var sums = new int[n][];
        var unchanged = new bool[n];
        ArgumentException thrown = Assert.Throws<ArgumentException>(() => provider.RunSpmd(mesh, context =>
        {
            int k = context.DeviceIndex;
            using DeviceArray<int> ints = DeviceArray.FromHost(context.Device, new HostArray<int>([1, 2, 3], 3));
            using DeviceArray<long> longs = DeviceArray.FromHost(context.Device, new HostArray<long>([4, 5], 2));
            messages[2 * k] = Assert.Throws<ArgumentException>(() => Collectives.Pmean(ints, "data")).Message;
            messages[(2 * k) + 1] = Assert.Throws<ArgumentException>(() => Collectives.AllReduceInPlace(longs, ReduceOp.Mean, "data")).Message;
            unchanged[k] = ints.ToArray().SequenceEqual([1, 2, 3]) && longs.ToArray().SequenceEqual([4L, 5]);

            // Nobody is left waiting in a half-started collective: a valid one still meets.
            using DeviceArray<int> sum = Collectives.Psum(ints, "data");
            sums[k] = sum.ToArray();
            using DeviceArray<int> mean = Collectives.Pmean(ints, "data");
        }));
        Assert.All(messages.Append(thrown.Message), m =>
        {
            Assert.Contains("pmean", m, StringComparison.Ordinal);
            Assert.Contains("float", m, StringComparison.Ordinal);
        });
        Assert.All(unchanged, Assert.True);
        Assert.All(sums, s => Assert.Equal([n, 2 * n, 3 * n], s));
    });

    [Theory]
    [MemberData(nameof(MeshShapes))]
    public void AxisIndexAndSize_TwoDimensionalMesh_RowMajorOverNamedAxesInGivenOrder(int dataSize, int modelSize) => WithProvider(dataSize * modelSize, provider =>
    {
        int n = dataSize * modelSize;
        var mesh = new Mesh(provider.Devices, ("data", dataSize), ("model", modelSize));
        var seen = new int[n][];
        var deviceIndices = new int[n][];
        provider.RunSpmd(mesh, context =>
        {
            AxisGroup dataModel = context.GetAxisGroup(["data", "model"]);
            AxisGroup modelData = context.GetAxisGroup(["model", "data"]);
            AxisGroup data = context.GetAxisGroup("data");
            seen[context.DeviceIndex] =
            [
                Collectives.AxisIndex("data"), Collectives.AxisSize("data"),
                Collectives.AxisIndex("model"), Collectives.AxisSize("model"),
                context.AxisIndex("data"), context.AxisSize("model"),
                dataModel.Rank, dataModel.Size, modelData.Rank, modelData.Size,
                data.GroupCount, data.GroupIndex, context.Coordinate[0], context.Coordinate[1],
            ];
            deviceIndices[context.DeviceIndex] = [.. Enumerable.Range(0, modelData.Size).Select(modelData.GetDeviceIndex)];
        });
        for (int k = 0; k < n; k++)
        {
            int d = k / modelSize;
            int m = k % modelSize;
            Assert.Equal(
                [d, dataSize, m, modelSize, d, modelSize, (d * modelSize) + m, n, (m * dataSize) + d, n, modelSize, m, d, m],
                seen[k]);
            Assert.Equal(CollectiveReference.GroupMembers(mesh, k, ["model", "data"]), deviceIndices[k]);
        }
    });

    [Theory]
    [MemberData(nameof(MeshShapes))]
    public void AllReduce_TwoDimensionalMesh_ReducesWithinGroupsInTupleRankOrder(int dataSize, int modelSize) => WithProvider(dataSize * modelSize, provider =>
    {
        int n = dataSize * modelSize;
        var mesh = new Mesh(provider.Devices, ("data", dataSize), ("model", modelSize));
        string[][] axisSets = [["data"], ["model"], ["data", "model"], ["model", "data"]];
        const int length = 1031;
        var random = new Random(7 + n);
        float[][] inputs = [.. Enumerable.Range(0, n).Select(_ => CollectiveReference.MixedFloats(random, length))];
        var results = new float[axisSets.Length * s_allOps.Length][][];
        var gathered = new float[n][];
        for (int j = 0; j < results.Length; j++)
        {
            results[j] = new float[n][];
        }

        provider.RunSpmd(mesh, context =>
        {
            int k = context.DeviceIndex;
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(inputs[k], length));
            for (int a = 0; a < axisSets.Length; a++)
            {
                for (int o = 0; o < s_allOps.Length; o++)
                {
                    using var y = Collectives.AllReduce(x, s_allOps[o], axisSets[a]).As<float>();
                    results[(a * s_allOps.Length) + o][k] = y.ToArray();
                }
            }

            using var g = Collectives.AllGather(x, "model").As<float>();
            Assert.Equal([(long)modelSize, length], g.Shape);
            gathered[k] = g.ToArray();
        });

        for (int k = 0; k < n; k++)
        {
            for (int a = 0; a < axisSets.Length; a++)
            {
                int[] members = CollectiveReference.GroupMembers(mesh, k, axisSets[a]);
                for (int o = 0; o < s_allOps.Length; o++)
                {
                    CollectiveReference.AssertBitEqual<float>(
                        CollectiveReference.Reduce(inputs, members, s_allOps[o]),
                        results[(a * s_allOps.Length) + o][k],
                        $"{s_allOps[o]} over ({string.Join(", ", axisSets[a])}) on device {k}");
                }
            }

            // Over "data", the device at (d, m) meets exactly the devices of column m.
            Assert.Equal(Enumerable.Range(0, dataSize).Select(d => (d * modelSize) + (k % modelSize)), CollectiveReference.GroupMembers(mesh, k, s_data));
            float[] expectedGather = [.. CollectiveReference.GroupMembers(mesh, k, ["model"]).SelectMany(member => inputs[member])];
            CollectiveReference.AssertBitEqual<float>(expectedGather, gathered[k], $"all_gather over 'model' on device {k}");
        }
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void AllGather_StackedAndTiled_RankOrderOnEveryDevice(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        const int bigLength = 10007;
        var stacked = new int[n][];
        var tiled = new int[n][];
        var shapes = new long[n][][];
        var big = new long[n][];
        var scalars = new double[n][];
        var empty = new float[n][];
        provider.RunSpmd(mesh, context =>
        {
            int rank = context.AxisIndex("data");
            using DeviceArray<int> x = DeviceArray.FromHost(context.Device, new HostArray<int>([.. Enumerable.Range(0, 6).Select(i => (100 * rank) + i)], 2, 3));
            using var s = Collectives.AllGather(x, "data").As<int>();
            using var t = Collectives.AllGather(x, "data", tiled: true).As<int>();
            stacked[rank] = s.ToArray();
            tiled[rank] = t.ToArray();

            using DeviceArray<long> b = DeviceArray.FromHost(context.Device, new HostArray<long>([.. Enumerable.Range(0, bigLength).Select(i => (1_000_000L * rank) + i)], bigLength));
            using var bs = Collectives.AllGather(b, "data", tiled: true).As<long>();
            big[rank] = bs.ToArray();

            using DeviceArray<double> scalar = DeviceArray.FromHost(context.Device, new HostArray<double>([rank + 0.5]));
            using var ss = Collectives.AllGather(scalar, "data").As<double>();
            scalars[rank] = ss.ToArray();

            using DeviceArray<float> nothing = DeviceArray.Allocate<float>(context.Device, 0, 3);
            using var es = Collectives.AllGather(nothing, "data").As<float>();
            using var et = Collectives.AllGather(nothing, "data", tiled: true).As<float>();
            empty[rank] = [.. es.ToArray(), .. et.ToArray()];
            shapes[rank] = [[.. s.Shape], [.. t.Shape], [.. bs.Shape], [.. ss.Shape], [.. es.Shape], [.. et.Shape]];
        });

        int[] expected = [.. Enumerable.Range(0, n).SelectMany(r => Enumerable.Range(0, 6).Select(i => (100 * r) + i))];
        long[] expectedBig = [.. Enumerable.Range(0, n).SelectMany(r => Enumerable.Range(0, bigLength).Select(i => (1_000_000L * r) + i))];
        for (int k = 0; k < n; k++)
        {
            Assert.Equal(expected, stacked[k]);
            Assert.Equal(expected, tiled[k]);
            Assert.Equal(expectedBig, big[k]);
            Assert.Equal(Enumerable.Range(0, n).Select(r => r + 0.5), scalars[k]);
            Assert.Empty(empty[k]);
            long[][] expectedShapes = [[n, 2, 3], [2L * n, 3], [(long)n * bigLength], [n], [n, 0, 3], [0, 3]];
            Assert.Equal(expectedShapes, shapes[k]);
        }
    });

    [Fact]
    public void AllGather_TiledScalar_ThrowsArgumentException() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2));
        ArgumentException error = Assert.Throws<ArgumentException>(() => provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<float> scalar = DeviceArray.FromHost(context.Device, new HostArray<float>([1f]));
            using DeviceArray gathered = Collectives.AllGather(scalar, "data", tiled: true);
        }));
        Assert.Contains("rank", error.Message, StringComparison.Ordinal);
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void PsumScatter_Tiled_EachRankGetsItsBlockOfTheRankOrderSum(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        const int block = 9001;
        var random = new Random(11 * n);
        float[][] small = [.. Enumerable.Range(0, n).Select(_ => CollectiveReference.MixedFloats(random, 2 * n * 3))];
        float[][] large = [.. Enumerable.Range(0, n).Select(_ => CollectiveReference.MixedFloats(random, n * block))];
        var smallResults = new float[n][];
        var largeResults = new float[n][];
        var shapes = new long[n][];
        provider.RunSpmd(mesh, context =>
        {
            int rank = context.AxisIndex("data");
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(small[rank], 2L * n, 3));
            using var y = Collectives.PsumScatter(x, "data").As<float>();
            shapes[rank] = [.. y.Shape];
            smallResults[rank] = y.ToArray();
            using DeviceArray<float> big = DeviceArray.FromHost(context.Device, new HostArray<float>(large[rank], (long)n * block));
            using var bigBlock = Collectives.PsumScatter(big, "data").As<float>();
            largeResults[rank] = bigBlock.ToArray();
        });

        int[] all = [.. Enumerable.Range(0, n)];
        float[] smallSum = CollectiveReference.Reduce(small, all, ReduceOp.Sum);
        float[] largeSum = CollectiveReference.Reduce(large, all, ReduceOp.Sum);
        for (int r = 0; r < n; r++)
        {
            Assert.Equal([2L, 3], shapes[r]);
            CollectiveReference.AssertBitEqual<float>(smallSum.AsSpan(6 * r, 6), smallResults[r], $"psum_scatter block {r}");
            CollectiveReference.AssertBitEqual<float>(largeSum.AsSpan(block * r, block), largeResults[r], $"large psum_scatter block {r}");
        }
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void PsumScatter_DimensionZeroNotDivisible_ThrowsArgumentExceptionOnEveryParticipant(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        var messages = new string[n];
        ArgumentException error = Assert.Throws<ArgumentException>(() => provider.RunSpmd(mesh, context =>
        {
            // A scalar has no dimension 0; 2n + 1 rows do not split over n > 1 participants.
            long[] shape = n == 1 ? [] : [(2L * n) + 1, 3];
            using DeviceArray<float> x = DeviceArray.Allocate<float>(context.Device, shape);
            messages[context.DeviceIndex] = Assert.Throws<ArgumentException>(() => Collectives.PsumScatter(x, "data")).Message;
            using DeviceArray scattered = Collectives.PsumScatter(x, "data");
        }));
        Assert.All(messages.Append(error.Message), m => Assert.Contains($"divisible by {n}", m, StringComparison.Ordinal));
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void Broadcast_FromEveryRoot_EveryDeviceGetsTheRootsValue(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        const int length = 20011;
        var results = new long[n][][];
        var inPlace = new long[n][];
        provider.RunSpmd(mesh, context =>
        {
            int rank = context.AxisIndex("data");
            long[] mine = [.. Enumerable.Range(0, length).Select(i => (rank * 1_000_000L) + i)];
            using DeviceArray<long> x = DeviceArray.FromHost(context.Device, new HostArray<long>(mine, length));
            results[rank] = new long[n][];
            for (int root = 0; root < n; root++)
            {
                using var y = Collectives.Broadcast(x, root, "data").As<long>();
                results[rank][root] = y.ToArray();
            }

            context.Broadcast(x, x, n - 1, context.GetAxisGroup("data"));
            inPlace[rank] = x.ToArray();
        });
        for (int k = 0; k < n; k++)
        {
            for (int root = 0; root < n; root++)
            {
                Assert.Equal(Enumerable.Range(0, length).Select(i => (root * 1_000_000L) + i), results[k][root]);
            }

            Assert.Equal(Enumerable.Range(0, length).Select(i => ((n - 1) * 1_000_000L) + i), inPlace[k]);
        }
    });

    [Fact]
    public void Broadcast_RootOutOfRange_ThrowsArgumentOutOfRange() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<float> x = DeviceArray.Allocate<float>(context.Device, 4);
            using DeviceArray y = Collectives.Broadcast(x, 2, "data");
        }));
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void Barrier_LateArrival_NobodyPassesBeforeEveryoneArrived(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        const int phases = 5;
        int arrived = 0;
        var early = new int[n];
        provider.RunSpmd(mesh, context =>
        {
            int rank = context.AxisIndex("data");
            for (int phase = 0; phase < phases; phase++)
            {
                if (rank == phase % n)
                {
                    Thread.Sleep(20);
                }

                Interlocked.Increment(ref arrived);
                Collectives.Barrier("data");
                if (Volatile.Read(ref arrived) < (phase + 1) * n)
                {
                    early[rank]++;
                }
            }
        });
        Assert.Equal(phases * n, arrived);
        Assert.All(early, e => Assert.Equal(0, e));
    });

    [Fact]
    public void Psum_OutsideAnyRegion_ThrowsUnboundAxisName() => WithProvider(1, provider =>
    {
        using DeviceArray<float> x = DeviceArray.FromHost(provider.Devices[0], new HostArray<float>([1f, 2f], 2));
        Assert.Null(SpmdContext.Current);
        InvalidOperationException psum = Assert.Throws<InvalidOperationException>(() => Collectives.Psum(x, "batch"));
        InvalidOperationException index = Assert.Throws<InvalidOperationException>(() => Collectives.AxisIndex("batch"));
        InvalidOperationException barrier = Assert.Throws<InvalidOperationException>(() => Collectives.Barrier("batch"));
        InvalidOperationException tuple = Assert.Throws<InvalidOperationException>(() => Collectives.AllReduceInPlace(x, ReduceOp.Sum, ["batch", "model"]));
        Assert.All(
            new[] { psum, index, barrier, tuple },
            e => Assert.StartsWith("unbound axis name: batch", e.Message, StringComparison.Ordinal));
        Assert.Equal([1f, 2f], x.ToArray());
    });

    [Theory]
    [MemberData(nameof(MeshShapes))]
    public void Psum_UnboundNameInsideRegion_ThrowsAndListsTheBoundNames(int dataSize, int modelSize) => WithProvider(dataSize * modelSize, provider =>
    {
        int n = dataSize * modelSize;
        Mesh[] meshes =
        [
            new Mesh(provider.Devices, ("data", n)),
            new Mesh(provider.Devices, ("data", dataSize), ("model", modelSize)),
        ];
        string[] bound = ["['data']", "['data', 'model']"];
        for (int i = 0; i < meshes.Length; i++)
        {
            var messages = new string[2 * n];
            InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => provider.RunSpmd(meshes[i], context =>
            {
                int k = context.DeviceIndex;
                using DeviceArray<float> x = DeviceArray.Allocate<float>(context.Device, 3);
                messages[2 * k] = Assert.Throws<InvalidOperationException>(() => Collectives.AllReduceInPlace(x, ReduceOp.Sum, ["data", "batch"])).Message;
                messages[(2 * k) + 1] = Assert.Throws<InvalidOperationException>(() => context.AxisIndex("batch")).Message;
                using DeviceArray<float> sum = Collectives.Psum(x, "batch");
            }));
            Assert.All(messages.Append(error.Message), m =>
            {
                Assert.StartsWith("unbound axis name: batch", m, StringComparison.Ordinal);
                Assert.Contains(bound[i], m, StringComparison.Ordinal);
            });
        }
    });

    [Theory]
    [MemberData(nameof(Disagreements))]
    public void AllReduce_ParticipantsDisagree_EveryParticipantThrowsNamingAxisAndRanksAndNoBufferChanges(int n, string disagreement) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        var errors = new Exception?[n];
        var unchanged = new bool[n];
        ArgumentException thrown = Assert.Throws<ArgumentException>(() => provider.RunSpmd(mesh, context =>
        {
            int rank = context.AxisIndex("data");
            bool odd = rank == 0;
            try
            {
                // Odd ranks reduce in place, even ranks out of place: every buffer must survive either way.
                bool inPlace = rank % 2 == 1;
                switch (disagreement)
                {
                    case "shape":
                        AllReduceExpectingFailure<float>(context, odd ? 4 : 8, ReduceOp.Sum, inPlace, unchanged);
                        break;
                    case "type" when odd:
                        AllReduceExpectingFailure<float>(context, 8, ReduceOp.Sum, inPlace, unchanged);
                        break;
                    case "type":
                        AllReduceExpectingFailure<double>(context, 8, ReduceOp.Sum, inPlace, unchanged);
                        break;
                    case "op":
                        AllReduceExpectingFailure<float>(context, 8, odd ? ReduceOp.Max : ReduceOp.Sum, inPlace, unchanged);
                        break;
                    case "root":
                        BroadcastExpectingFailure(context, odd ? 0 : 1, inPlace, unchanged);
                        break;
                    case "collective" when odd:
                        unchanged[rank] = true;
                        Collectives.Barrier("data");
                        break;
                    default:
                        AllReduceExpectingFailure<float>(context, 8, ReduceOp.Sum, inPlace, unchanged);
                        break;
                }
            }
            catch (Exception error)
            {
                errors[rank] = error;
                throw;
            }
        }));

        Assert.Contains(thrown, errors);
        string others = n == 2 ? "rank 1" : string.Join(", ", Enumerable.Range(1, n - 1));
        Assert.All(errors, e =>
        {
            ArgumentException error = Assert.IsType<ArgumentException>(e);
            Assert.Contains("'data'", error.Message, StringComparison.Ordinal);
            Assert.Contains("rank 0", error.Message, StringComparison.Ordinal);
            Assert.Contains(others, error.Message, StringComparison.Ordinal);
        });
        Assert.All(unchanged, Assert.True);
        AssertProviderStillRunsRegions(provider, mesh);
    });

    [Theory]
    [MemberData(nameof(FaultCases))]
    public void RunSpmd_OneBodyThrowsWhileOthersWait_RethrowsOriginalPromptlyAndReleasesOthers(int n, int roundsBeforeFault) => WithProvider(n, provider =>
    {
        const int failing = 1;
        var mesh = new Mesh(provider.Devices, ("data", n));
        var boom = new InvalidOperationException("boom");
        var errors = new Exception?[n];
        var completedRounds = new int[n];
        Exception thrown = Assert.ThrowsAny<Exception>(() => provider.RunSpmd(mesh, context =>
        {
            int rank = context.AxisIndex("data");
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([1f, 2f, 3f], 3));
            for (int round = 0; round <= roundsBeforeFault; round++)
            {
                if (rank == failing && round == roundsBeforeFault)
                {
                    Thread.Sleep(100); // the others are blocked in the collective by now
                    throw boom;
                }

                try
                {
                    using DeviceArray<float> sum = Collectives.Psum(x, "data");
                    completedRounds[rank]++;
                }
                catch (Exception error)
                {
                    errors[rank] = error;
                    throw;
                }
            }
        }));

        Assert.Same(boom, thrown);
        for (int rank = 0; rank < n; rank++)
        {
            Assert.Equal(roundsBeforeFault, completedRounds[rank]);
            if (rank == failing)
            {
                Assert.Null(errors[rank]);
                continue;
            }

            OperationCanceledException released = Assert.IsType<OperationCanceledException>(errors[rank]);
            Assert.Same(boom, released.InnerException);
        }

        AssertProviderStillRunsRegions(provider, mesh);
    });

    /// <summary>
    /// Devices 0 and 2 all-reduce a large array over "data"; device 1 (the other column) throws as soon as the
    /// reduction has visibly started, so the abort lands while the element range is being reduced. A participant
    /// released with an exception owns its buffers again (its body frees them on the way out): nothing may write into
    /// them after the release.
    /// </summary>
    [Fact]
    public void RunSpmd_FailureWhileALargeCollectiveRuns_ReleasedParticipantsBuffersAreNotWrittenAfterwards() => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2), ("model", 2));
        const int length = 4 << 20;
        float[] ones = [.. Enumerable.Repeat(1f, length)];
        int released = 0;
        var writtenAfterRelease = new List<string>();
        for (int attempt = 0; attempt < 20 && writtenAfterRelease.Count == 0; attempt++)
        {
            var boom = new InvalidOperationException("boom");
            var buffers = new DeviceBuffer?[4];
            using var probed = new ManualResetEventSlim();
            Exception thrown = Assert.ThrowsAny<Exception>(() => provider.RunSpmd(mesh, context =>
            {
                int k = context.DeviceIndex;
                if (k == 1)
                {
                    WaitUntilReductionStarted(provider, buffers, length / 2, probed);
                    throw boom;
                }

                if (k == 3)
                {
                    Collectives.Barrier("data");
                    return;
                }

                using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(ones, length));
                try
                {
                    Volatile.Write(ref buffers[k], x.Buffer);
                    Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data");
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref released);
                    float[] atRelease = x.ToArray();
                    Thread.Sleep(100);
                    bool written = !atRelease.AsSpan().SequenceEqual(x.ToArray());
                    lock (writtenAfterRelease)
                    {
                        writtenAfterRelease.AddRange(written ? [$"attempt {attempt}, device {k}"] : []);
                    }

                    throw;
                }
                finally
                {
                    probed.Wait(TimeSpan.FromSeconds(5));
                }
            }));
            Assert.Same(boom, thrown);
        }

        Assert.True(
            writtenAfterRelease.Count == 0,
            $"The collective kept writing into the buffers of a participant after releasing it with OperationCanceledException ({string.Join("; ", writtenAfterRelease)}; {released} releases).");
    });

    [Fact]
    public void RunSpmd_ReleasedBodySwallowsTheCancellation_LaterCollectivesFailFastAndRegionRethrowsOriginal() => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 4));
        var boom = new InvalidOperationException("boom");
        var retries = new Exception?[4];
        Exception thrown = Assert.ThrowsAny<Exception>(() => provider.RunSpmd(mesh, context =>
        {
            int k = context.DeviceIndex;
            if (k == 1)
            {
                Thread.Sleep(50);
                throw boom;
            }

            using DeviceArray<float> x = DeviceArray.Allocate<float>(context.Device, 8);
            try
            {
                Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data");
            }
            catch (OperationCanceledException)
            {
                // Swallowed: the body carries on, and every further collective must fail at once, not wait.
            }

            retries[k] = Record.Exception(() => Collectives.AllReduceInPlace(x, ReduceOp.Sum, "data"));
        }));
        Assert.Same(boom, thrown);
        foreach (int k in new[] { 0, 2, 3 })
        {
            Assert.Same(boom, Assert.IsType<OperationCanceledException>(retries[k]).InnerException);
        }

        AssertProviderStillRunsRegions(provider, mesh);
    });

    [Fact]
    public void RunSpmd_DisjointSubmeshesConcurrently_BothComplete() => WithProvider(8, provider =>
    {
        Mesh left = new(provider.Devices.Take(4), ("data", 4));
        Mesh right = new(provider.Devices.Skip(4).Reverse(), ("data", 2), ("model", 2));
        var sums = new float[8][];
        using var bothStarted = new Barrier(2);
        void Run(Mesh mesh) => provider.RunSpmd(mesh, context =>
        {
            if (context.DeviceIndex == 0)
            {
                bothStarted.SignalAndWait(TimeSpan.FromSeconds(5));
            }

            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([context.Device.Id, 1f], 2));
            for (int i = 0; i < 50; i++)
            {
                Collectives.Barrier("data");
            }

            using DeviceArray<float> sum = Collectives.Psum(x, "data");
            sums[context.Device.Id] = sum.ToArray();
        });
        Task first = Task.Run(() => Run(left), TestContext.Current.CancellationToken);
        Task second = Task.Run(() => Run(right), TestContext.Current.CancellationToken);
        Assert.True(Task.WaitAll([first, second], TimeSpan.FromSeconds(20)), "The concurrent regions did not finish.");
        for (int id = 0; id < 4; id++)
        {
            Assert.Equal([6f, 4f], sums[id]);
        }

        // right: devices 7, 6 | 5, 4 as (data, model); "data" pairs 7 with 5 and 6 with 4.
        Assert.Equal([12f, 2f], sums[7]);
        Assert.Equal([12f, 2f], sums[5]);
        Assert.Equal([10f, 2f], sums[6]);
        Assert.Equal([10f, 2f], sums[4]);
    });

    [Fact]
    public void RunSpmd_RankNeverArrives_ThrowsTimeoutNamingAxisAndMissingRank() => WithProvider(4, provider =>
    {
        Assert.Equal(TimeSpan.FromSeconds(60), provider.CollectiveTimeout);
        Assert.Throws<ArgumentOutOfRangeException>(() => provider.CollectiveTimeout = TimeSpan.Zero);
        provider.CollectiveTimeout = TimeSpan.FromMilliseconds(300);
        var mesh = new Mesh(provider.Devices, ("data", 4));
        var stopwatch = Stopwatch.StartNew();
        TimeoutException error = Assert.Throws<TimeoutException>(() => provider.RunSpmd(mesh, context =>
        {
            if (context.AxisIndex("data") == 2)
            {
                return;
            }

            using DeviceArray<float> x = DeviceArray.Allocate<float>(context.Device, 5);
            using DeviceArray<float> sum = Collectives.Psum(x, "data");
        }));
        TimeSpan elapsed = stopwatch.Elapsed;

        Assert.True(elapsed >= TimeSpan.FromMilliseconds(250), $"The collective gave up after {elapsed.TotalMilliseconds:F0} ms, before its 300 ms timeout.");
        Assert.Contains("'data'", error.Message, StringComparison.Ordinal);
        Assert.Matches(@"\brank 2\b", error.Message);
        Assert.DoesNotMatch(@"\branks? (0|1|3)\b", error.Message);
        AssertProviderStillRunsRegions(provider, mesh);
    });

    [Fact]
    public void RunSpmd_RankNeverArrivesOnTwoByTwoMesh_TimeoutNamesItsRankInItsGroup() => WithProvider(4, provider =>
    {
        provider.CollectiveTimeout = TimeSpan.FromMilliseconds(300);
        var mesh = new Mesh(provider.Devices, ("data", 2), ("model", 2));
        TimeoutException error = Assert.Throws<TimeoutException>(() => provider.RunSpmd(mesh, context =>
        {
            // Device (1, 0) skips: only the "data" group of model column 0 waits for it, as its rank 1.
            if (context.DeviceIndex == 2)
            {
                return;
            }

            using DeviceArray<float> x = DeviceArray.Allocate<float>(context.Device, 5);
            using DeviceArray<float> sum = Collectives.Psum(x, "data");
        }));
        Assert.Contains("'data'", error.Message, StringComparison.Ordinal);
        Assert.Matches(@"\brank 1\b", error.Message);
        Assert.DoesNotMatch(@"\branks? 0\b", error.Message);
        AssertProviderStillRunsRegions(provider, mesh);
    });

    [Fact]
    public void RunSpmd_ForeignDevicesOrDisposedProvider_Throws()
    {
        DeviceProvider provider = CreateProvider(2);
        using (DeviceProvider other = CreateProvider(2))
        {
            var foreign = new Mesh(other.Devices, ("data", 2));
            int ran = 0;
            Assert.Throws<ArgumentException>(() => provider.RunSpmd(foreign, _ => Interlocked.Increment(ref ran)));
            Assert.Equal(0, ran);
        }

        var mesh = new Mesh(provider.Devices, ("data", 2));
        provider.RunSpmd(mesh, _ => { });
        Assert.Equal(0, provider.LiveBufferCount);
        provider.Dispose();
        Assert.Throws<ObjectDisposedException>(() => provider.RunSpmd(mesh, _ => { }));
    }

    [Fact]
    public void RunSpmd_NestedRegionOnTheSameDevices_ThrowsInvalidOperationException() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2));
        var errors = new InvalidOperationException?[2];
        int innerRuns = 0;
        InvalidOperationException thrown = Assert.Throws<InvalidOperationException>(() => provider.RunSpmd(mesh, context =>
        {
            int k = context.DeviceIndex;
            Mesh inner = k == 0 ? mesh : new Mesh([provider.Devices[1]], ("inner", 1));
            try
            {
                provider.RunSpmd(inner, _ => Interlocked.Increment(ref innerRuns));
            }
            catch (InvalidOperationException error)
            {
                errors[k] = error;
                throw;
            }
        }));
        Assert.Contains(thrown, errors);
        Assert.All(errors, e => Assert.Contains("nested", Assert.IsType<InvalidOperationException>(e).Message, StringComparison.Ordinal));
        Assert.Equal(0, innerRuns);
        AssertProviderStillRunsRegions(provider, mesh);
    });

    [Fact]
    public void ShardMap_PsumOfDataBlocks_ReplicatedOutSpecGivesTheSumOnEveryDevice() => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 4));
        float[] data = Iota(24);
        using GlobalArray<float> batch = GlobalArray.DevicePut(new HostArray<float>(data, 8, 3), new NamedSharding(mesh, new PartitionSpec("data")));
        var shapes = new long[4][];
        Tree<GlobalArray> outputs = Spmd.ShardMap(mesh, Tree.Leaf<GlobalArray>(batch), new PartitionSpec("data"), PartitionSpec.Replicated, (context, local) =>
        {
            var block = local.Value.As<float>();
            shapes[context.DeviceIndex] = [.. block.Shape];
            return Tree.Leaf<DeviceArray>(Collectives.Psum(block, "data"));
        });
        try
        {
            var sum = outputs.Value.As<float>();
            float[] expected = [.. Enumerable.Range(0, 6).Select(i => ((data[i] + data[i + 6]) + data[i + 12]) + data[i + 18])];
            Assert.Equal([2L, 3], sum.Shape);
            Assert.True(sum.Sharding.IsFullyReplicated);
            Assert.All(sum.Shards, s => Assert.Equal(expected, sum.GetShardData(s.Device)));
            Assert.All(shapes, s => Assert.Equal([2L, 3], s));
            Assert.Equal(data, batch.ToArray());
            Assert.Equal(8, provider.LiveBufferCount);
        }
        finally
        {
            outputs.DisposeLeaves();
        }
    });

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void AllReduce_OnViewsOfForeignMemory_LeavesTheSumInThatMemory(int n) => WithProvider(n, provider =>
    {
        ForeignMemory[] memories = [.. provider.Devices.Select(d => AllocateForeign(provider, d, 3 * sizeof(float)))];
        try
        {
            provider.RunSpmd(new Mesh(provider.Devices, ("data", n)), context =>
            {
                ForeignMemory memory = memories[context.DeviceIndex];
                using DeviceArray<float> gradient = DeviceArray.FromExternal<float>(context.Device, memory.Address, () => memory.IsAlive, 3);
                gradient.CopyFrom([context.DeviceIndex + 1f, 10, -1]);
                Collectives.AllReduceInPlace(gradient, ReduceOp.Mean, "data");
            });

            foreach ((Device device, ForeignMemory memory) in provider.Devices.Zip(memories))
            {
                using DeviceArray<float> again = DeviceArray.FromExternal<float>(device, memory.Address, null, 3);
                Assert.Equal([(n + 1) / 2f, 10, -1], again.ToArray());
            }
        }
        finally
        {
            foreach (ForeignMemory memory in memories)
            {
                memory.Dispose();
            }
        }
    });

    [Fact]
    public void ShardMap_TheDocumentedExample_PsumOfTheBlocksIsReplicatedAndFullyAddressable() => WithProvider(4, provider =>
    {
        // The <example> on Spmd.ShardMap, as written there.
        int rows = 8;
        float[] values = Iota(rows * 4);
        var mesh = new Mesh(provider.Devices, ("data", provider.Devices.Count));
        using GlobalArray x = GlobalArray.DevicePut(HostArray.From(values, rows, 4), new NamedSharding(mesh, new PartitionSpec("data")));
        Tree<GlobalArray> sum = Spmd.ShardMap(mesh, x, new PartitionSpec("data"), PartitionSpec.Replicated,
            (context, local) => Collectives.Psum(local.Value.As<float>(), "data"));

        Assert.Equal([2L, 4L], sum.Value.Shape);
        Assert.True(sum.Value.IsFullyAddressable);
        Assert.Equal([.. Enumerable.Range(0, 8).Select(i => Enumerable.Range(0, 4).Sum(d => values[(d * 8) + i]))], sum.Value.As<float>().ToArray());
        sum.DisposeLeaves();
    });

    [Fact]
    public void ShardMap_PerLeafOutSpecs_DataSpecReassemblesTheBlocks() => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 4));
        float[] data = Iota(24);
        using GlobalArray<float> batch = GlobalArray.DevicePut(new HostArray<float>(data, 8, 3), new NamedSharding(mesh, new PartitionSpec("data")));
        Tree<GlobalArray> outputs = Spmd.ShardMap(
            mesh,
            Tree.Leaf<GlobalArray>(batch),
            (_, _) => new PartitionSpec("data"),
            (path, _) => path == TreePath.Parse("sum") ? PartitionSpec.Replicated : new PartitionSpec("data"),
            (context, local) => Tree.Dict<DeviceArray>(
                ("block", local.Value.Clone()),
                ("sum", Collectives.AllReduce(local.Value, ReduceOp.Sum, "data")),
                ("summed_blocks", Collectives.AllReduce(local.Value, ReduceOp.Sum, "data"))));
        try
        {
            var block = outputs["block"].Value.As<float>();
            var sum = outputs["sum"].Value.As<float>();
            var summed = outputs["summed_blocks"].Value.As<float>();
            float[] expectedSum = [.. Enumerable.Range(0, 6).Select(i => ((data[i] + data[i + 6]) + data[i + 12]) + data[i + 18])];
            Assert.Equal([8L, 3], block.Shape);
            Assert.Equal(data, block.ToArray());
            Assert.Equal([2L, 3], sum.Shape);
            Assert.Equal(expectedSum, sum.ToArray());
            Assert.Equal([8L, 3], summed.Shape);
            Assert.Equal([.. expectedSum, .. expectedSum, .. expectedSum, .. expectedSum], summed.ToArray());
        }
        finally
        {
            outputs.DisposeLeaves();
        }
    });

    [Fact]
    public void ShardMap_InputNotLaidOutAsInSpec_IsReshardedAndTheCopyFreed() => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 4));
        float[] data = Iota(24);
        using GlobalArray<float> batch = GlobalArray.DevicePut(new HostArray<float>(data, 8, 3), new NamedSharding(mesh, PartitionSpec.Replicated));
        var blocks = new float[4][];
        Tree<GlobalArray> outputs = Spmd.ShardMap(mesh, Tree.Leaf<GlobalArray>(batch), new PartitionSpec("data"), new PartitionSpec("data"), (context, local) =>
        {
            var block = local.Value.As<float>();
            blocks[context.DeviceIndex] = block.ToArray();
            return Tree.Leaf<DeviceArray>(block); // a view of the resharded copy: must be copied out
        });
        try
        {
            for (int k = 0; k < 4; k++)
            {
                Assert.Equal(data[(6 * k)..(6 * (k + 1))], blocks[k]);
            }

            var output = outputs.Value.As<float>();
            Assert.Equal(new NamedSharding(mesh, new PartitionSpec("data")), output.Sharding);
            Assert.Equal(data, output.ToArray());
            Assert.Equal(data, batch.ToArray());
            Assert.Equal(4 + 4, provider.LiveBufferCount);
        }
        finally
        {
            outputs.DisposeLeaves();
        }
    });

    [Fact]
    public void ShardMap_BodyReturnsItsInputView_OutputIsACopyAndTheInputSurvives() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2));
        int[] data = [.. Enumerable.Range(0, 8)];
        using GlobalArray<int> batch = GlobalArray.DevicePut(new HostArray<int>(data, 4, 2), new NamedSharding(mesh, new PartitionSpec("data")));
        Tree<GlobalArray> outputs = Spmd.ShardMap(mesh, Tree.Leaf<GlobalArray>(batch), new PartitionSpec("data"), new PartitionSpec("data"), (context, local) =>
            Tree.Dict<DeviceArray>(("input", local.Value), ("gathered", Collectives.AllGather(local.Value, "data", tiled: true))));
        try
        {
            var input = outputs["input"].Value.As<int>();
            var gathered = outputs["gathered"].Value.As<int>();
            Assert.Equal(data, input.ToArray());
            Assert.Equal([8L, 2], gathered.Shape);
            Assert.Equal([.. data, .. data], gathered.ToArray());
            AssertNoSharedBuffers(batch, input, gathered);
            Assert.Equal(6, provider.LiveBufferCount);
        }
        finally
        {
            outputs.DisposeLeaves();
        }

        Assert.Equal(data, batch.ToArray());
        Assert.Equal(2, provider.LiveBufferCount);
    });

    [Fact]
    public void ShardMap_BodyReturnsOneArrayInTwoLeaves_EachOutputOwnsItsBuffers() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2));
        int[] data = [.. Enumerable.Range(0, 8)];
        using GlobalArray<int> batch = GlobalArray.DevicePut(new HostArray<int>(data, 4, 2), new NamedSharding(mesh, new PartitionSpec("data")));
        Tree<GlobalArray> outputs = Spmd.ShardMap(mesh, Tree.Leaf<GlobalArray>(batch), new PartitionSpec("data"), new PartitionSpec("data"), (context, local) =>
        {
            DeviceArray copy = local.Value.Clone();
            return Tree.Dict<DeviceArray>(("first", copy), ("second", copy));
        });
        try
        {
            var first = outputs["first"].Value.As<int>();
            var second = outputs["second"].Value.As<int>();
            Assert.Equal(data, first.ToArray());
            Assert.Equal(data, second.ToArray());
            AssertNoSharedBuffers(batch, first, second);
            Assert.Equal(6, provider.LiveBufferCount);
        }
        finally
        {
            outputs.DisposeLeaves();
        }

        Assert.Equal(2, provider.LiveBufferCount);
    });

    [Fact]
    public void ShardMap_DevicesReturnDifferentShapesOrStructures_ThrowsArgumentExceptionWithoutLeak() => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 4));
        using GlobalArray<float> batch = GlobalArray.DevicePut(new HostArray<float>(Iota(24), 8, 3), new NamedSharding(mesh, new PartitionSpec("data")));
        ArgumentException shape = Assert.Throws<ArgumentException>(() => Spmd.ShardMap(mesh, Tree.Leaf<GlobalArray>(batch), new PartitionSpec("data"), new PartitionSpec("data"), (context, local) =>
            Tree.Dict<DeviceArray>(
                ("a", local.Value.Clone()),
                ("b", local.Value.AllocateLike(context.DeviceIndex == 2 ? 3 : 2, 3)))));
        Assert.Contains(provider.Devices[2].ToString(), shape.Message, StringComparison.Ordinal);
        Assert.Equal(4, provider.LiveBufferCount);

        Assert.Throws<ArgumentException>(() => Spmd.ShardMap(mesh, Tree.Leaf<GlobalArray>(batch), new PartitionSpec("data"), new PartitionSpec("data"), (context, local) =>
            context.DeviceIndex == 1
                ? Tree.Dict<DeviceArray>(("a", local.Value.Clone()))
                : Tree.Dict<DeviceArray>(("a", local.Value.Clone()), ("b", local.Value.Clone()))));
        Assert.Equal(4, provider.LiveBufferCount);
    });

    [Fact]
    public void ShardMap_BodyThrowsOnOneDevice_RethrowsAndFreesTheOtherOutputs() => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 4));
        using GlobalArray<float> batch = GlobalArray.DevicePut(new HostArray<float>(Iota(24), 8, 3), new NamedSharding(mesh, new PartitionSpec("data")));
        var boom = new InvalidOperationException("boom");
        Exception thrown = Assert.ThrowsAny<Exception>(() => Spmd.ShardMap(mesh, Tree.Leaf<GlobalArray>(batch), new PartitionSpec("data"), new PartitionSpec("data"), (context, local) =>
            context.DeviceIndex == 3 ? throw boom : Tree.Leaf(local.Value.Clone())));
        Assert.Same(boom, thrown);
        Assert.Equal(4, provider.LiveBufferCount);
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void PMap_PsumOverBatch_OutputsStackedOnTheLeadingAxis(int n) => WithProvider(n, provider =>
    {
        float[] data = [.. Enumerable.Range(0, n).SelectMany(r => new[] { r + 1f, 10f * (r + 1), 100f * (r + 1) })];
        var ranks = new int[n];
        var shapes = new long[n][];
        Tree<GlobalArray> outputs = Spmd.PMap(provider, "batch", Tree.Dict(("x", HostArray.From(data, n, 3))), (context, local) =>
        {
            var x = local["x"].Value.As<float>();
            ranks[context.DeviceIndex] = Collectives.AxisIndex("batch");
            shapes[context.DeviceIndex] = [.. x.Shape];
            return Tree.Dict<DeviceArray>(("sum", Collectives.Psum(x, "batch")), ("self", x));
        });
        try
        {
            var sum = outputs["sum"].Value.As<float>();
            var self = outputs["self"].Value.As<float>();
            float total = n * (n + 1) / 2f;
            Assert.Equal([(long)n, 3], sum.Shape);
            Assert.Equal(Enumerable.Range(0, n).SelectMany(_ => new[] { total, 10f * total, 100f * total }), sum.ToArray());
            Assert.Equal([(long)n, 3], self.Shape);
            Assert.Equal(data, self.ToArray());
            Assert.Equal(Enumerable.Range(0, n), ranks);
            Assert.All(shapes, s => Assert.Equal([3L], s));
        }
        finally
        {
            outputs.DisposeLeaves();
        }
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void PMap_LeadingSizeAboveDeviceCount_ThrowsArgumentException(int n) => WithProvider(n, provider =>
    {
        Tree<HostArray> inputs = Tree.Leaf(HostArray.From(new float[(n + 1) * 3], n + 1, 3));
        ArgumentException error = Assert.Throws<ArgumentException>(() => Spmd.PMap(provider, "batch", inputs, (_, local) => local));
        Assert.Contains("requires", error.Message, StringComparison.Ordinal);
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void AllReduceShards_DataSharded_EachShardBecomesTheRankOrderReduction(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        CheckAllReduceShards(provider, mesh, CollectiveReference.MixedFloats, s_allOps);
        CheckAllReduceShards(provider, mesh, CollectiveReference.MixedDoubles, s_allOps);
        CheckAllReduceShards(provider, mesh, CollectiveReference.Ints, s_integerOps);
        CheckAllReduceShards(provider, mesh, CollectiveReference.Longs, s_integerOps);
    });

    [Fact]
    public void AllReduceShards_TwoByTwoMeshOverData_ReducesWithinEachModelColumn() => WithProvider(4, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2), ("model", 2));
        var random = new Random(5);
        string[][] axisSets = [["data"], ["model", "data"]];
        foreach (string[] axes in axisSets)
        {
            foreach (PartitionSpec spec in new[] { new PartitionSpec("data", "model"), new PartitionSpec("data") })
            {
                using GlobalArray<float> array = GlobalArray.DevicePut(new HostArray<float>(CollectiveReference.MixedFloats(random, 2 * 1030), 2, 1030), new NamedSharding(mesh, spec));
                float[][] before = [.. array.Shards.Select(s => array.GetShardData(s.Device))];
                provider.AllReduceShards(array, ReduceOp.Sum, axes);
                for (int k = 0; k < 4; k++)
                {
                    float[] expected = CollectiveReference.Reduce(before, CollectiveReference.GroupMembers(mesh, k, axes), ReduceOp.Sum);
                    CollectiveReference.AssertBitEqual<float>(expected, array.GetShardData(provider.Devices[k]), $"shard {k} of {spec} over ({string.Join(", ", axes)})");
                }
            }
        }
    });

    [Fact]
    public void AllReduceShards_BadAxesOrSharding_ThrowsArgumentExceptionAndChangesNothing() => WithProvider(2, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", 2));
        using GlobalArray<float> array = GlobalArray.DevicePut(new HostArray<float>(Iota(4), 2, 2), new NamedSharding(mesh, new PartitionSpec("data")));
        using GlobalArray<float> single = GlobalArray.DevicePut(new HostArray<float>(Iota(4), 2, 2), new SingleDeviceSharding(provider.Devices[0]));
        using GlobalArray<int> ints = GlobalArray.DevicePut(new HostArray<int>([1, 2, 3, 4], 2, 2), new NamedSharding(mesh, new PartitionSpec("data")));

        ArgumentException unknown = Assert.Throws<ArgumentException>(() => provider.AllReduceShards(array, ReduceOp.Sum, "batch"));
        Assert.Contains("'batch'", unknown.Message, StringComparison.Ordinal);
        ArgumentException notNamed = Assert.Throws<ArgumentException>(() => provider.AllReduceShards(single, ReduceOp.Sum, "data"));
        Assert.Contains("NamedSharding", notNamed.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => provider.AllReduceShards(array, ReduceOp.Sum, "data", "data"));
        Assert.Throws<ArgumentException>(() => provider.AllReduceShards(array, ReduceOp.Sum));
        ArgumentException mean = Assert.Throws<ArgumentException>(() => provider.AllReduceShards(ints, ReduceOp.Mean, "data"));
        Assert.Contains("pmean", mean.Message, StringComparison.Ordinal);
        using (DeviceProvider other = CreateProvider(2))
        {
            Assert.Throws<ArgumentException>(() => other.AllReduceShards(array, ReduceOp.Sum, "data"));
        }

        Assert.Equal(Iota(4), array.ToArray());
        Assert.Equal(Iota(4), single.ToArray());
        Assert.Equal([1, 2, 3, 4], ints.ToArray());
    });

    /// <summary>Runs one all-reduce per device and returns every device's result.</summary>
    private static T[][] AllReduceOnEveryDevice<T>(DeviceProvider provider, Mesh mesh, T[][] inputs, ReduceOp op, string[] axes, bool inPlace)
        where T : unmanaged
    {
        var results = new T[mesh.Size][];
        provider.RunSpmd(mesh, context =>
        {
            int k = context.DeviceIndex;
            using DeviceArray<T> x = DeviceArray.FromHost(context.Device, new HostArray<T>(inputs[k], inputs[k].Length));
            if (inPlace)
            {
                Collectives.AllReduceInPlace(x, op, axes);
                results[k] = x.ToArray();
            }
            else
            {
                using DeviceArray<T> output = DeviceArray.Allocate<T>(context.Device, inputs[k].Length);
                context.AllReduce(x, output, op, context.GetAxisGroup(axes));
                results[k] = output.ToArray();
            }
        });
        return results;
    }

    private static T[] ReduceScalar<T>(Device device, T value, ReduceOp[] ops)
        where T : unmanaged
    {
        var results = new T[ops.Length];
        using DeviceArray<T> x = DeviceArray.FromHost(device, new HostArray<T>([value]));
        for (int i = 0; i < ops.Length; i++)
        {
            using var y = Collectives.AllReduce(x, ops[i], "data").As<T>();
            Assert.Empty(y.Shape);
            results[i] = y.ToArray()[0];
        }

        return results;
    }

    /// <summary>Calls an all-reduce that must fail with <see cref="ArgumentException"/>; records whether the input and output kept their values.</summary>
    [Theory]
    [InlineData("all_reduce", 2)]
    [InlineData("all_reduce", 4)]
    [InlineData("all_gather", 2)]
    [InlineData("all_gather", 4)]
    [InlineData("psum_scatter", 2)]
    [InlineData("psum_scatter", 4)]
    public void Collective_SameCountDifferentShapes_EveryParticipantThrowsNamingAxisRanksAndShapes_NothingChanges(string collective, int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        var errors = new Exception?[n];
        var unchanged = new bool[n];
        bool scatter = string.Equals(collective, "psum_scatter", StringComparison.Ordinal);
        long[] shape0 = scatter ? [2, 3 * n] : [2, 3];
        long[] shapeOthers = scatter ? [3 * n, 2] : [3, 2];
        ArgumentException thrown = Assert.Throws<ArgumentException>(() => provider.RunSpmd(mesh, context =>
        {
            int rank = context.AxisIndex("data");
            long[] shape = rank == 0 ? shape0 : shapeOthers;
            long length = shape[0] * shape[1];
            long outputLength = collective switch { "all_gather" => length * n, "psum_scatter" => length / n, _ => length };
            float[] values = [.. Enumerable.Range(0, (int)length).Select(i => (float)((100 * rank) + i))];
            float[] sentinel = [.. Enumerable.Repeat(-1f, (int)outputLength)];
            using DeviceArray<float> input = DeviceArray.FromHost(context.Device, new HostArray<float>(values, shape));
            using DeviceArray<float> output = DeviceArray.FromHost(context.Device, new HostArray<float>(sentinel, outputLength));
            AxisGroup group = context.GetAxisGroup("data");
            try
            {
                switch (collective)
                {
                    case "all_reduce":
                        context.AllReduce(input, input, ReduceOp.Sum, group);
                        break;
                    case "all_gather":
                        context.AllGather(input, output, group);
                        break;
                    default:
                        context.ReduceScatter(input, output, group);
                        break;
                }
            }
            catch (ArgumentException error)
            {
                errors[rank] = error;
                throw;
            }
            finally
            {
                unchanged[rank] = input.ToArray().SequenceEqual(values) && output.ToArray().SequenceEqual(sentinel);
            }
        }));
        string others = n == 2 ? "rank 1 has" : $"ranks {string.Join(", ", Enumerable.Range(1, n - 1))} have";
        Assert.StartsWith(
            $"Participants of {collective} over axis 'data' disagree on the shape: rank 0 has ({string.Join(", ", shape0)}); {others} ({string.Join(", ", shapeOthers)}). No buffer was changed.",
            thrown.Message,
            StringComparison.Ordinal);
        Assert.All(errors, e => Assert.Equal(thrown.Message, Assert.IsType<ArgumentException>(e).Message));
        Assert.All(unchanged, Assert.True);
    });

    [Theory]
    [MemberData(nameof(MultiDeviceCounts))]
    public void Reproducible_OneInputOutsideTheWindow_EveryParticipantThrowsNamingRankIndexAndValue_NothingChanges(int n) => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        var errors = new Exception?[2 * n];
        var unchanged = new bool[n];
        provider.RunSpmd(mesh, context =>
        {
            int rank = context.AxisIndex("data");
            float[] values = [.. Enumerable.Range(0, 2 * n).Select(i => (float)(rank + i))];
            if (rank == n - 1)
            {
                values[1] = 3e9f;
            }

            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(values, values.Length));
            using DeviceArray<float> block = DeviceArray.Allocate<float>(context.Device, 2);
            AxisGroup group = context.GetAxisGroup("data");
            errors[2 * rank] = Record.Exception(() => context.AllReduce(x, x, ReduceOp.Mean, group, Determinism.Reproducible));
            errors[(2 * rank) + 1] = Record.Exception(() => context.ReduceScatter(x, block, group, Determinism.Reproducible));
            unchanged[rank] = x.ToArray().SequenceEqual(values);
        });

        Assert.All(errors, e => Assert.Contains(
            $"rank {n - 1}'s input[1] is 3000000000, outside the window of reproducible summation",
            Assert.IsType<ArgumentException>(e).Message,
            StringComparison.Ordinal));
        Assert.All(unchanged, Assert.True);
    });

    private static void AllReduceExpectingFailure<T>(SpmdContext context, int length, ReduceOp op, bool inPlace, bool[] unchanged)
        where T : unmanaged, INumber<T>
    {
        T[] values = [.. Enumerable.Range(0, length).Select(i => T.CreateChecked((10 * context.DeviceIndex) + i + 1))];
        T[] sentinel = [.. values.Select(v => -v)];
        using DeviceArray<T> x = DeviceArray.FromHost(context.Device, new HostArray<T>(values, length));
        using DeviceArray<T> output = DeviceArray.FromHost(context.Device, new HostArray<T>(sentinel, length));
        try
        {
            context.AllReduce(x, inPlace ? x : output, op, context.GetAxisGroup("data"));
        }
        finally
        {
            unchanged[context.DeviceIndex] = x.ToArray().SequenceEqual(values) && output.ToArray().SequenceEqual(sentinel);
        }
    }

    /// <summary>Waits until element <paramref name="index"/> of device 0's buffer shows the sum (2), then signals.</summary>
    private static void WaitUntilReductionStarted(DeviceProvider provider, DeviceBuffer?[] buffers, long index, ManualResetEventSlim probed)
    {
        try
        {
            var clock = Stopwatch.StartNew();
            var probe = new float[1];
            while (Volatile.Read(ref buffers[0]) is null && clock.Elapsed < TimeSpan.FromSeconds(2))
            {
                Thread.SpinWait(20);
            }

            while (buffers[0] is not null && clock.Elapsed < TimeSpan.FromSeconds(2))
            {
                provider.CopyToHost<float>(buffers[0]!, index, probe);
                if (probe[0] == 2f)
                {
                    return;
                }
            }
        }
        finally
        {
            probed.Set();
        }
    }

    /// <summary>Calls a broadcast that must fail with <see cref="ArgumentException"/>; records whether the input and output kept their values.</summary>
    private static void BroadcastExpectingFailure(SpmdContext context, int root, bool inPlace, bool[] unchanged)
    {
        float[] values = [.. Enumerable.Range(0, 8).Select(i => (10f * context.DeviceIndex) + i + 1)];
        float[] sentinel = [.. values.Select(v => -v)];
        using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(values, 8));
        using DeviceArray<float> output = DeviceArray.FromHost(context.Device, new HostArray<float>(sentinel, 8));
        try
        {
            context.Broadcast(x, inPlace ? x : output, root, context.GetAxisGroup("data"));
        }
        finally
        {
            unchanged[context.DeviceIndex] = x.ToArray().SequenceEqual(values) && output.ToArray().SequenceEqual(sentinel);
        }
    }

    private static void AssertProviderStillRunsRegions(DeviceProvider provider, Mesh mesh)
    {
        var sums = new float[mesh.Size][];
        provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>([1f, context.DeviceIndex], 2));
            using DeviceArray<float> sum = Collectives.Psum(x, "data");
            Collectives.Barrier("data");
            sums[context.DeviceIndex] = sum.ToArray();
        });
        for (int k = 0; k < mesh.Size; k++)
        {
            int[] members = CollectiveReference.GroupMembers(mesh, k, s_data);
            Assert.Equal([members.Length, members.Sum()], sums[k]);
        }
    }

    private static void AssertNoSharedBuffers(params GlobalArray[] arrays)
    {
        HashSet<DeviceBuffer> buffers = new(ReferenceEqualityComparer.Instance);
        foreach (GlobalArray array in arrays)
        {
            Assert.All(array.Shards, s => Assert.True(buffers.Add(s.Buffer), $"{s.Buffer} is shared by two arrays."));
        }
    }

    private static void AssertSameFloats(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (float.IsNaN(expected[i]))
            {
                Assert.True(float.IsNaN(actual[i]), $"{what}: element {i} is {actual[i]}, not NaN.");
            }
            else
            {
                Assert.True(
                    BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                    $"{what}: element {i} is {actual[i]} (0x{BitConverter.SingleToInt32Bits(actual[i]):X8}), expected {expected[i]} (0x{BitConverter.SingleToInt32Bits(expected[i]):X8}).");
            }
        }
    }

    private void CheckAllReduceBits<T>(int n, Func<Random, int, T[]> generate, ReduceOp[] ops)
        where T : unmanaged, INumber<T> => WithProvider(n, provider =>
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        int[] all = [.. Enumerable.Range(0, n)];
        foreach (int length in s_lengths)
        {
            var random = new Random(length + (1000 * n));
            T[][] inputs = [.. Enumerable.Range(0, n).Select(_ => generate(random, length))];
            var outOfPlace = new T[ops.Length][][];
            var inPlace = new T[ops.Length][][];
            for (int o = 0; o < ops.Length; o++)
            {
                outOfPlace[o] = new T[n][];
                inPlace[o] = new T[n][];
            }

            var inputsAfter = new T[n][];
            provider.RunSpmd(mesh, context =>
            {
                int k = context.DeviceIndex;
                AxisGroup group = context.GetAxisGroup("data");
                using DeviceArray<T> x = DeviceArray.FromHost(context.Device, new HostArray<T>(inputs[k], length));
                using DeviceArray<T> output = DeviceArray.Allocate<T>(context.Device, length);
                for (int o = 0; o < ops.Length; o++)
                {
                    context.AllReduce(x, output, ops[o], group);
                    outOfPlace[o][k] = output.ToArray();
                    using DeviceArray<T> y = DeviceArray.FromHost(context.Device, new HostArray<T>(inputs[k], length));
                    Collectives.AllReduceInPlace(y, ops[o], "data");
                    inPlace[o][k] = y.ToArray();
                }

                inputsAfter[k] = x.ToArray();
            });

            for (int o = 0; o < ops.Length; o++)
            {
                T[] expected = CollectiveReference.Reduce(inputs, all, ops[o]);
                for (int k = 0; k < n; k++)
                {
                    CollectiveReference.AssertBitEqual<T>(expected, outOfPlace[o][k], $"{ops[o]} of {length} {typeof(T).Name} out of place on device {k}");
                    CollectiveReference.AssertBitEqual<T>(expected, inPlace[o][k], $"{ops[o]} of {length} {typeof(T).Name} in place on device {k}");
                }
            }

            for (int k = 0; k < n; k++)
            {
                CollectiveReference.AssertBitEqual<T>(inputs[k], inputsAfter[k], $"input of device {k} after the out-of-place reductions");
            }
        }
    });

    private static void CheckAllReduceShards<T>(DeviceProvider provider, Mesh mesh, Func<Random, int, T[]> generate, ReduceOp[] ops)
        where T : unmanaged, INumber<T>
    {
        int n = mesh.Size;
        int[] all = [.. Enumerable.Range(0, n)];
        foreach (int width in new[] { 37, 70001 })
        {
            foreach (ReduceOp op in ops)
            {
                var random = new Random(width + n);
                T[][] rows = [.. Enumerable.Range(0, n).Select(_ => generate(random, width))];
                using GlobalArray<T> array = GlobalArray.DevicePut(new HostArray<T>([.. rows.SelectMany(r => r)], n, width), new NamedSharding(mesh, new PartitionSpec("data")));
                provider.AllReduceShards(array, op, "data");
                T[] expected = CollectiveReference.Reduce(rows, all, op);
                foreach (Shard shard in array.Shards)
                {
                    Assert.Equal([1L, width], shard.Shape);
                    CollectiveReference.AssertBitEqual<T>(expected, array.GetShardData(shard.Device), $"{op} of {typeof(T).Name}[{width}] on {shard.Device}");
                }
            }
        }
    }

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
