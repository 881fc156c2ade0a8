using System.Globalization;

namespace Artifex.Tests;

public sealed class NamedShardingTests
{
    private static readonly PartitionSpec s_data = new("data");

    public static TheoryData<int> DeviceCounts => [1, 2, 4, 8];

    /// <summary>Every factorization of 1, 2, 4 and 8 devices into 1-D and 2-D meshes, paired with every spec that fits.</summary>
    public static TheoryData<int[], string> MeshesAndSpecs
    {
        get
        {
            var data = new TheoryData<int[], string>();
            foreach (int n in new[] { 1, 2, 4, 8 })
            {
                foreach (string spec in new[] { "()", "(a)", "(None,a)" })
                {
                    data.Add([n], spec);
                }

                for (int a = 1; a <= n; a *= 2)
                {
                    foreach (string spec in new[] { "()", "(a)", "(b)", "(a,b)", "(b,a)", "((a,b))", "((b,a))", "(None,b)", "(None,(a,b))", "(None,None)" })
                    {
                        data.Add([a, n / a], spec);
                    }
                }
            }

            data.Add([2, 2, 2], "((c,a))");
            data.Add([2, 2, 2], "(b,None,(a,c))");
            data.Add([2, 1, 4], "(c,a)");
            return data;
        }
    }

    [Fact]
    public void Constructor_UnknownAxis_ThrowsJaxMessage()
    {
        var mesh = new Mesh(TestDevices.Create(2), ("data", 2));

        var ex = Assert.Throws<ArgumentException>(() => new NamedSharding(mesh, new PartitionSpec("model")));

        Assert.Equal(
            ExceptionText.WithParameter("Resource axis: model of PartitionSpec('model',) is not found in mesh: ('data',).", "spec"),
            ex.Message);
    }

    [Fact]
    public void Constructor_UnknownAxisInsideTuple_ThrowsJaxMessage()
    {
        var mesh = new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2));

        var ex = Assert.Throws<ArgumentException>(() => new NamedSharding(mesh, new PartitionSpec(null, ("data", "pipe"))));

        Assert.StartsWith(
            "Resource axis: pipe of PartitionSpec(None, ('data', 'pipe')) is not found in mesh: ('data', 'model').",
            ex.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_AxisUsedTwice_ThrowsJaxMessage()
    {
        var mesh = new Mesh(TestDevices.Create(2), ("data", 2));

        var ex = Assert.Throws<ArgumentException>(() => new NamedSharding(mesh, new PartitionSpec("data", "data")));

        Assert.Equal(
            ExceptionText.WithParameter(
                "A single NamedSharding spec specification can map every mesh axis to at most one positional dimension, but PartitionSpec('data', 'data') has duplicate entries for `data`",
                "spec"),
            ex.Message);
    }

    [Fact]
    public void Constructor_AxisUsedTwiceInOneTuple_ThrowsDuplicateMessage()
    {
        var mesh = new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2));

        var ex = Assert.Throws<ArgumentException>(() => new NamedSharding(mesh, new PartitionSpec(("model", "model"))));

        Assert.StartsWith(
            "A single NamedSharding spec specification can map every mesh axis to at most one positional dimension, but PartitionSpec(('model', 'model'),) has duplicate entries for `model`",
            ex.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_NullArguments_ThrowArgumentNullException()
    {
        var mesh = new Mesh(TestDevices.Create(1), ("data", 1));

        Assert.Throws<ArgumentNullException>(() => new NamedSharding(null!, s_data));
        Assert.Throws<ArgumentNullException>(() => new NamedSharding(mesh, null!));
    }

    [Fact]
    public void Properties_ExposeMeshSpecAndMeshDevices()
    {
        var mesh = new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2));

        var sharding = new NamedSharding(mesh, s_data);

        Assert.Same(mesh, sharding.Mesh);
        Assert.Equal(new PartitionSpec("data"), sharding.Spec);
        Assert.Equal(mesh.Devices, sharding.Devices);
    }

    [Fact]
    public void ToString_PrintsLikeJax()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(2), ("data", 2)), s_data);

        Assert.Equal("NamedSharding(mesh=Mesh('data': 2), spec=PartitionSpec('data',), memory_kind=device)", sharding.ToString());
    }

    [Fact]
    public void Equals_EqualMeshAndSpec_EqualWithSameHash()
    {
        var a = new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2)), new PartitionSpec("data"));
        var b = new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2)), new PartitionSpec("data"));

        Assert.True(a.Equals(b));
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Fact]
    public void Equals_DifferentSpecOrMesh_NotEqual()
    {
        var mesh = new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2));
        var sharding = new NamedSharding(mesh, s_data);

        Assert.False(sharding.Equals(new NamedSharding(mesh, new PartitionSpec("data", null))));
        Assert.False(sharding.Equals(new NamedSharding(mesh, new PartitionSpec("model"))));
        Assert.False(sharding.Equals(new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 4), ("model", 1)), s_data)));
        Assert.False(sharding.Equals((NamedSharding?)null));
        Assert.False(sharding.Equals((object)new SingleDeviceSharding(mesh.Devices[0])));
    }

    [Fact]
    public void GetValidationError_SpecLongerThanRank_GivesRankMessage()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(2), ("data", 2)), new PartitionSpec("data", null));

        string? error = sharding.GetValidationError([4]);

        Assert.Equal(
            $"Sharding {sharding} is only valid for values of rank at least 2, but was applied to a value of rank 1.",
            error);
    }

    [Fact]
    public void GetValidationError_NoneSpecOnScalar_AddsScalarHint()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(2), ("data", 2)), new PartitionSpec(PartitionDim.None));

        string? error = sharding.GetValidationError([]);

        Assert.Equal(
            "Sharding NamedSharding(mesh=Mesh('data': 2), spec=PartitionSpec(None,), memory_kind=device) is only valid for values of rank at least 1, but was applied to a value of rank 0. For scalars the PartitionSpec should be P()",
            error);
    }

    [Fact]
    public void GetValidationError_ReplicatedSpecOnScalar_IsValid()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(2), ("data", 2)), PartitionSpec.Replicated);

        Assert.Null(sharding.GetValidationError([]));
    }

    [Fact]
    public void GetValidationError_NotDivisible_GivesJaxMessage()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(2), ("data", 2)), s_data);

        string? error = sharding.GetValidationError([5, 8]);

        Assert.Equal(
            "One of device_put args was given the sharding of NamedSharding(mesh=Mesh('data': 2), spec=PartitionSpec('data',), memory_kind=device), which implies that the global size of its dimension 0 should be divisible by 2, but it is equal to 5 (full shape: (5, 8))",
            error);
    }

    [Fact]
    public void GetValidationError_SecondDimensionNotDivisibleByTupleProduct_NamesDimensionOne()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2)), new PartitionSpec(null, ("data", "model")));

        string? error = sharding.GetValidationError([3, 6]);

        Assert.NotNull(error);
        Assert.EndsWith(
            "which implies that the global size of its dimension 1 should be divisible by 4, but it is equal to 6 (full shape: (3, 6))",
            error,
            StringComparison.Ordinal);
    }

    [Fact]
    public void GetValidationError_OneDimensionalShape_PrintsOneElementTuple()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(2), ("data", 2)), s_data);

        Assert.EndsWith("(full shape: (3,))", sharding.GetValidationError([3]), StringComparison.Ordinal);
    }

    [Fact]
    public void GetValidationError_ZeroSizedSplitDimension_IsDivisible()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 4)), s_data);

        Assert.Null(sharding.GetValidationError([0, 3]));
    }

    [Fact]
    public void GetValidationError_NegativeDimension_Rejected()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(2), ("data", 2)), s_data);

        Assert.Equal("Array dimensions must be non-negative, but the shape is (-2, 3).", sharding.GetValidationError([-2, 3]));
    }

    [Fact]
    public void GetValidationError_UnsplitDimensionNotDivisible_IsValid()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2)), new PartitionSpec(null, "model"));

        Assert.Null(sharding.GetValidationError([7, 4]));
    }

    [Fact]
    public void Validate_WithLeafPath_AppendsPathToMessage()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(2), ("data", 2)), s_data);
        string expected = sharding.GetValidationError([5, 8])!;

        var ex = Assert.Throws<ArgumentException>(() => sharding.Validate([5, 8], TreePath.Parse("batch/x")));

        Assert.Equal("globalShape", ex.ParamName);
        Assert.Equal(ExceptionText.WithParameter(expected + " (leaf: batch/x)", "globalShape"), ex.Message);
    }

    [Fact]
    public void Validate_RootPath_MessageHasNoLeafSuffix()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(2), ("data", 2)), s_data);
        string expected = sharding.GetValidationError([5, 8])!;

        var ex = Assert.Throws<ArgumentException>(() => sharding.Validate([5, 8]));

        Assert.Equal(ExceptionText.WithParameter(expected, "globalShape"), ex.Message);
        Assert.DoesNotContain("leaf:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ValidShape_DoesNotThrow()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(2), ("data", 2)), s_data);

        Exception? ex = Record.Exception(() => sharding.Validate([4, 8], TreePath.Parse("batch/x")));

        Assert.Null(ex);
    }

    [Fact]
    public void GetShardShape_TwoByTwoMeshBothDimensionsSplit_DividesEach()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2)), new PartitionSpec("data", "model"));

        Assert.Equal([4L, 3L], sharding.GetShardShape([8, 6]));
    }

    [Fact]
    public void GetShardShape_TupleEntry_DividesByProduct()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2)), new PartitionSpec(("data", "model")));

        Assert.Equal([2L, 3L, 5L], sharding.GetShardShape([8, 3, 5]));
    }

    [Fact]
    public void GetShardShape_Replicated_IsGlobalShape()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 4)), PartitionSpec.Replicated);

        Assert.Equal([7L, 3L], sharding.GetShardShape([7, 3]));
        Assert.Empty(sharding.GetShardShape([]));
    }

    [Fact]
    public void GetShardShape_NotDivisible_Throws()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(2), ("data", 2)), s_data);

        var ex = Assert.Throws<ArgumentException>(() => sharding.GetShardShape([5, 8]));

        Assert.Contains("should be divisible by 2, but it is equal to 5", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetShardPlacements_NotDivisible_Throws()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(2), ("data", 2)), s_data);

        Assert.Throws<ArgumentException>(() => sharding.GetShardPlacements([5, 8]));
    }

    [Fact]
    public void GetShardPlacements_OneDimMeshSplitRows_JaxExample()
    {
        Device[] d = TestDevices.Create(4);
        var sharding = new NamedSharding(new Mesh(d, ("data", 4)), s_data);

        IReadOnlyList<ShardPlacement> placements = sharding.GetShardPlacements([8, 3]);

        Assert.Equal(
            ["0 [0:2, 0:3] r0", "1 [2:4, 0:3] r0", "2 [4:6, 0:3] r0", "3 [6:8, 0:3] r0"],
            Describe(placements));
        Assert.Equal(d, placements.Select(static p => p.Device));
    }

    [Fact]
    public void GetShardPlacements_OneDimMeshReplicated_JaxExample()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 4)), PartitionSpec.Replicated);

        IReadOnlyList<ShardPlacement> placements = sharding.GetShardPlacements([8, 3]);

        Assert.Equal(
            ["0 [0:8, 0:3] r0", "1 [0:8, 0:3] r1", "2 [0:8, 0:3] r2", "3 [0:8, 0:3] r3"],
            Describe(placements));
    }

    [Fact]
    public void GetShardPlacements_TwoDimMeshSplitOverData_JaxExample()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2)), s_data);

        IReadOnlyList<ShardPlacement> placements = sharding.GetShardPlacements([8, 3]);

        Assert.Equal(
            ["0 [0:4, 0:3] r0", "1 [0:4, 0:3] r1", "2 [4:8, 0:3] r0", "3 [4:8, 0:3] r1"],
            Describe(placements));
    }

    [Fact]
    public void GetShardPlacements_TwoDimMeshSplitOverDataAndModelTuple_JaxExample()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2)), new PartitionSpec(("data", "model")));

        IReadOnlyList<ShardPlacement> placements = sharding.GetShardPlacements([8, 3]);

        Assert.Equal(
            ["0 [0:2, 0:3] r0", "1 [2:4, 0:3] r0", "2 [4:6, 0:3] r0", "3 [6:8, 0:3] r0"],
            Describe(placements));
    }

    [Fact]
    public void GetShardPlacements_TwoDimMeshSplitColumnsOverModel_JaxExample()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2)), new PartitionSpec(null, "model"));

        IReadOnlyList<ShardPlacement> placements = sharding.GetShardPlacements([8, 6]);

        Assert.Equal(
            ["0 [0:8, 0:3] r0", "1 [0:8, 3:6] r0", "2 [0:8, 0:3] r1", "3 [0:8, 3:6] r1"],
            Describe(placements));
    }

    [Fact]
    public void GetShardPlacements_TupleInReverseMeshOrder_FirstNamedAxisIsMajor()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2)), new PartitionSpec(("model", "data")));

        IReadOnlyList<ShardPlacement> placements = sharding.GetShardPlacements([8]);

        // Device (i, j) = (data, model) holds block j*2 + i.
        Assert.Equal(["0 [0:2] r0", "1 [4:6] r0", "2 [2:4] r0", "3 [6:8] r0"], Describe(placements));
    }

    [Fact]
    public void GetShardPlacements_ThreeDimMesh_ReplicaCountsOverUnusedAxis()
    {
        var mesh = new Mesh(TestDevices.Create(8), ("a", 2), ("b", 2), ("c", 2));
        var sharding = new NamedSharding(mesh, new PartitionSpec(("c", "a")));

        IReadOnlyList<ShardPlacement> placements = sharding.GetShardPlacements([8]);

        // Device (i, j, k) holds block k*2 + i of size 2; its replica id is j.
        Assert.Equal(
            ["0 [0:2] r0", "1 [4:6] r0", "2 [0:2] r1", "3 [4:6] r1", "4 [2:4] r0", "5 [6:8] r0", "6 [2:4] r1", "7 [6:8] r1"],
            Describe(placements));
    }

    [Fact]
    public void GetShardPlacements_ThreeDimMeshTwoUnusedAxes_ReplicaIsRowMajorOverThem()
    {
        var mesh = new Mesh(TestDevices.Create(8), ("a", 2), ("b", 2), ("c", 2));
        var sharding = new NamedSharding(mesh, new PartitionSpec("b"));

        IReadOnlyList<ShardPlacement> placements = sharding.GetShardPlacements([4]);

        // Device (i, j, k) holds block j; its replica id is i*2 + k.
        Assert.Equal(
            ["0 [0:2] r0", "1 [0:2] r1", "2 [2:4] r0", "3 [2:4] r1", "4 [0:2] r2", "5 [0:2] r3", "6 [2:4] r2", "7 [2:4] r3"],
            Describe(placements));
    }

    [Fact]
    public void GetShardPlacements_ZeroSizedSplitDimension_EmptyBlocks()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(2), ("data", 2)), s_data);

        IReadOnlyList<ShardPlacement> placements = sharding.GetShardPlacements([0, 3]);

        Assert.Equal(["0 [0:0, 0:3] r0", "1 [0:0, 0:3] r0"], Describe(placements));
    }

    [Fact]
    public void GetShardPlacements_Scalar_EveryDeviceHoldsItWithReplicaIds()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(2), ("data", 2)), PartitionSpec.Replicated);

        IReadOnlyList<ShardPlacement> placements = sharding.GetShardPlacements([]);

        Assert.Equal(["0 [] r0", "1 [] r1"], Describe(placements));
        Assert.All(placements, static p => Assert.Empty(p.Shape));
    }

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void GetShardPlacements_OneDimMeshSplitRows_DeviceKHoldsRowsTwoK(int n)
    {
        Device[] devices = TestDevices.Create(n);
        var sharding = new NamedSharding(new Mesh(devices, ("data", n)), s_data);

        IReadOnlyList<ShardPlacement> placements = sharding.GetShardPlacements([2 * n, 3]);

        Assert.Equal(n, placements.Count);
        for (int k = 0; k < n; k++)
        {
            Assert.Same(devices[k], placements[k].Device);
            Assert.Equal(new DimensionSlice(2 * k, 2), placements[k].Index[0]);
            Assert.Equal(new DimensionSlice(0, 3), placements[k].Index[1]);
            Assert.Equal(0, placements[k].ReplicaId);
            Assert.Equal([2L, 3L], placements[k].Shape);
        }
    }

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void GetShardPlacements_OneDimMeshReplicated_ReplicaIdsCountUp(int n)
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(n), ("data", n)), PartitionSpec.Replicated);

        IReadOnlyList<ShardPlacement> placements = sharding.GetShardPlacements([8, 3]);

        Assert.Equal(Enumerable.Range(0, n), placements.Select(static p => p.ReplicaId));
        Assert.All(placements, static p => Assert.Equal([new DimensionSlice(0, 8), new DimensionSlice(0, 3)], p.Index));
    }

    [Theory]
    [MemberData(nameof(MeshesAndSpecs))]
    public void GetShardPlacements_AnyMeshAndSpec_MatchesReferenceAndTilesTheArray(int[] meshSizes, string specText)
    {
        string[] names = ["a", "b", "c"];
        int n = meshSizes.Aggregate(1, static (x, y) => x * y);
        Device[] devices = TestDevices.Create(n);
        var mesh = new Mesh(devices, [.. meshSizes.Select((s, i) => new MeshAxis(names[i], s))]);
        PartitionSpec spec = ParseSpec(specText);
        var sharding = new NamedSharding(mesh, spec);
        long[] shape = [2 * n, 3 * n, n];

        IReadOnlyList<ShardPlacement> placements = sharding.GetShardPlacements(shape);
        long[] shardShape = sharding.GetShardShape(shape);

        Assert.Equal(n, placements.Count);
        var holders = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int k = 0; k < n; k++)
        {
            (long[] start, long[] length, int replica) = ReferencePlacement(meshSizes, names, spec, shape, k);
            ShardPlacement placement = placements[k];
            Assert.Same(devices[k], placement.Device);
            Assert.Equal(start, placement.Index.Select(static s => s.Start));
            Assert.Equal(length, placement.Index.Select(static s => s.Length));
            Assert.Equal(shardShape, placement.Shape);
            Assert.Equal(replica, placement.ReplicaId);
            string key = string.Join(",", placement.Index);
            if (!holders.TryGetValue(key, out List<int>? ids))
            {
                holders[key] = ids = [];
            }

            ids.Add(placement.ReplicaId);
        }

        // Every distinct block is held by the same number of devices, with replica ids 0..r-1.
        int replicas = n / holders.Count;
        Assert.All(holders.Values, ids => Assert.Equal(Enumerable.Range(0, replicas), ids.Order()));

        // The distinct blocks cover every element of the array exactly once.
        var cover = new int[shape[0], shape[1], shape[2]];
        foreach (ShardPlacement placement in placements.Where(static p => p.ReplicaId == 0))
        {
            for (long i = placement.Index[0].Start; i < placement.Index[0].Stop; i++)
            {
                for (long j = placement.Index[1].Start; j < placement.Index[1].Stop; j++)
                {
                    for (long l = placement.Index[2].Start; l < placement.Index[2].Stop; l++)
                    {
                        cover[i, j, l]++;
                    }
                }
            }
        }

        Assert.All(cover.Cast<int>(), static c => Assert.Equal(1, c));
    }

    [Fact]
    public void IsFullyReplicated_EmptySpec_True()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2)), PartitionSpec.Replicated);

        Assert.True(sharding.IsFullyReplicated);
    }

    [Fact]
    public void IsFullyReplicated_AllNoneSpec_True()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 4)), new PartitionSpec(null, null));

        Assert.True(sharding.IsFullyReplicated);
    }

    [Fact]
    public void IsFullyReplicated_SplitOverSizeOneAxes_True()
    {
        var mesh = new Mesh(TestDevices.Create(4), ("data", 1), ("model", 4), ("pipe", 1));

        Assert.True(new NamedSharding(mesh, new PartitionSpec("data", "pipe")).IsFullyReplicated);
        Assert.True(new NamedSharding(mesh, new PartitionSpec(("data", "pipe"))).IsFullyReplicated);
    }

    [Fact]
    public void IsFullyReplicated_RealSplit_False()
    {
        var mesh = new Mesh(TestDevices.Create(4), ("data", 1), ("model", 4));

        Assert.False(new NamedSharding(mesh, new PartitionSpec("model")).IsFullyReplicated);
        Assert.False(new NamedSharding(mesh, new PartitionSpec(null, ("data", "model"))).IsFullyReplicated);
    }

    [Fact]
    public void GetSplitCount_PerDimension_ProductOfNamedAxes()
    {
        var mesh = new Mesh(TestDevices.Create(8), ("a", 2), ("b", 4));
        var sharding = new NamedSharding(mesh, new PartitionSpec(null, ("a", "b")));

        Assert.Equal(1, sharding.GetSplitCount(0));
        Assert.Equal(8, sharding.GetSplitCount(1));
        Assert.Equal(1, sharding.GetSplitCount(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => sharding.GetSplitCount(-1));
    }

    private static string[] Describe(IReadOnlyList<ShardPlacement> placements) =>
        [.. placements.Select(static p =>
            string.Create(
                CultureInfo.InvariantCulture,
                $"{p.Device.Id} [{string.Join(", ", p.Index.Select(static s => string.Create(CultureInfo.InvariantCulture, $"{s.Start}:{s.Start + s.Length}")))}] r{p.ReplicaId}"))];

    /// <summary>Parses the compact spec notation of <see cref="MeshesAndSpecs"/>, e.g. <c>(None,(a,b))</c>.</summary>
    private static PartitionSpec ParseSpec(string text)
    {
        string body = text[1..^1];
        var entries = new List<PartitionDim>();
        int i = 0;
        while (i < body.Length)
        {
            if (body[i] == ',')
            {
                i++;
                continue;
            }

            if (body[i] == '(')
            {
                int close = body.IndexOf(')', i);
                entries.Add(PartitionDim.Over(body[(i + 1)..close].Split(',')));
                i = close + 1;
                continue;
            }

            int end = body.IndexOf(',', i);
            string name = end < 0 ? body[i..] : body[i..end];
            entries.Add(string.Equals(name, "None", StringComparison.Ordinal) ? PartitionDim.None : PartitionDim.Over(name));
            i = end < 0 ? body.Length : end + 1;
        }

        return new PartitionSpec([.. entries]);
    }

    /// <summary>The spec's placement rule (C.3, C.4) written out directly from a device's row-major position.</summary>
    private static (long[] Start, long[] Length, int Replica) ReferencePlacement(
        int[] meshSizes, string[] names, PartitionSpec spec, long[] shape, int deviceIndex)
    {
        var coordinate = new Dictionary<string, int>(StringComparer.Ordinal);
        int rest = deviceIndex;
        for (int axis = meshSizes.Length - 1; axis >= 0; axis--)
        {
            coordinate[names[axis]] = rest % meshSizes[axis];
            rest /= meshSizes[axis];
        }

        var start = new long[shape.Length];
        var length = new long[shape.Length];
        var used = new HashSet<string>(StringComparer.Ordinal);
        for (int d = 0; d < shape.Length; d++)
        {
            string[] axes = d < spec.Count ? [.. spec[d].AxisNames] : [];
            long blocks = 1;
            long block = 0;
            foreach (string axis in axes)
            {
                int size = meshSizes[Array.IndexOf(names, axis)];
                block = (block * size) + coordinate[axis];
                blocks *= size;
                used.Add(axis);
            }

            length[d] = shape[d] / blocks;
            start[d] = block * length[d];
        }

        int replica = 0;
        for (int axis = 0; axis < meshSizes.Length; axis++)
        {
            if (!used.Contains(names[axis]))
            {
                replica = (replica * meshSizes[axis]) + coordinate[names[axis]];
            }
        }

        return (start, length, replica);
    }
}
