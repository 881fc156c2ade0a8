namespace Artifex.Tests;

public sealed class TreeTests
{
    [Fact]
    public void Dict_KeysInsertedOutOfOrder_ComeBackOrdinalSorted()
    {
        Tree<int> tree = Tree.Dict(("targets", 1), ("inputs", 2), ("Zeta", 3), ("alpha", 4));

        Assert.Equal(TreeKind.Dict, tree.Kind);
        Assert.Equal(["Zeta", "alpha", "inputs", "targets"], tree.Keys, StringComparer.Ordinal);
        Assert.Equal([3, 4, 2, 1], tree.Leaves());
    }

    [Fact]
    public void Dict_SameEntriesInAnyOrder_GiveTheSameStructureAndLeaves()
    {
        Tree<int> forward = Tree.Dict(("a", 1), ("b", 2), ("c", 3));
        Tree<int> backward = Tree.Dict(("c", 3), ("b", 2), ("a", 1));

        Assert.Equal(forward.Structure, backward.Structure);
        Assert.Equal(forward.Leaves(), backward.Leaves());
    }

    [Fact]
    public void Dict_DuplicateKey_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tree.Dict(("a", 1), ("b", 2), ("a", 3)));

        Assert.Equal(ExceptionText.WithParameter("Dict key 'a' appears more than once.", "entries"), ex.Message);
    }

    [Fact]
    public void Dict_NullKey_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tree.Dict((null!, 1), ("b", 2)));

        Assert.Contains("must not be null", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dict_KeysDifferingOnlyInCase_AreDistinct()
    {
        Tree<int> tree = Tree.Dict(("a", 1), ("A", 2));

        Assert.Equal(2, tree.LeafCount);
        Assert.Equal(1, tree["a"].Value);
        Assert.Equal(2, tree["A"].Value);
    }

    [Fact]
    public void Dict_SubtreeEntries_NestsTrees()
    {
        Tree<int> tree = Tree.Dict<int>(("b", Tree.List<int>(1, 2)), ("a", Tree.Empty<int>()));

        Assert.True(tree["a"].IsEmpty);
        Assert.Equal(TreeKind.List, tree["b"].Kind);
        Assert.Equal([1, 2], tree.Leaves());
    }

    [Fact]
    public void List_KeepsOrderAndEmptyNodes()
    {
        Tree<string> tree = Tree.List<string>("z", Tree.Empty<string>(), "a");

        Assert.Equal(TreeKind.List, tree.Kind);
        Assert.Equal(3, tree.Children.Length);
        Assert.Empty(tree.Keys);
        Assert.True(tree[1].IsEmpty);
        Assert.Equal(["z", "a"], tree.Leaves(), StringComparer.Ordinal);
    }

    [Fact]
    public void List_NullChild_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => Tree.List(Tree.Leaf(1), null!));
    }

    [Fact]
    public void Leaf_NullValue_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => Tree.Leaf<string>(null!));
    }

    [Fact]
    public void ImplicitConversion_Value_IsOneLeafTree()
    {
        Tree<int> tree = 7;

        Assert.True(tree.IsLeaf);
        Assert.Equal(7, tree.Value);
        Assert.Equal(1, tree.LeafCount);
        Assert.Equal([7], tree.Leaves());
    }

    [Fact]
    public void Empty_HasNoLeaves()
    {
        Tree<int> tree = Tree.Empty<int>();

        Assert.True(tree.IsEmpty);
        Assert.False(tree.IsLeaf);
        Assert.Equal(0, tree.LeafCount);
        Assert.Empty(tree.Leaves());
        Assert.Equal("None", tree.ToString());
    }

    [Fact]
    public void Value_NonLeaf_ThrowsInvalidOperation()
    {
        Tree<int> tree = Tree.Dict(("a", 1));

        var ex = Assert.Throws<InvalidOperationException>(() => tree.Value);

        Assert.Equal("This tree node is a Dict node, not a leaf.", ex.Message);
    }

    [Fact]
    public void Map_EmptyNodes_PreservedAndNeverPassedToSelector()
    {
        Tree<int> tree = Tree.Dict<int>(
            ("a", 1),
            ("b", Tree.Empty<int>()),
            ("c", Tree.List<int>(2, Tree.Empty<int>(), 3)));
        var seen = new List<int>();

        Tree<string> mapped = tree.Map(x =>
        {
            seen.Add(x);
            return $"v{x}";
        });

        Assert.Equal([1, 2, 3], seen);
        Assert.True(mapped["b"].IsEmpty);
        Assert.True(mapped["c"][1].IsEmpty);
        Assert.Equal(["v1", "v2", "v3"], mapped.Leaves(), StringComparer.Ordinal);
        Assert.Equal(tree.Structure, mapped.Structure);
    }

    [Fact]
    public void Map_OnlyEmptyNodes_SelectorNeverCalled()
    {
        Tree<int> tree = Tree.List(Tree.Empty<int>(), Tree.Dict<int>(("x", Tree.Empty<int>())));
        int calls = 0;

        Tree<int> mapped = tree.Map(x => calls += x + 1);

        Assert.Equal(0, calls);
        Assert.Equal("[None, {'x': None}]", mapped.ToString());
    }

    [Fact]
    public void Map_DoesNotChangeTheInput()
    {
        Tree<int> tree = Tree.Dict(("a", 1), ("b", 2));

        Tree<int> doubled = tree.Map(static x => x * 2);

        Assert.Equal([1, 2], tree.Leaves());
        Assert.Equal([2, 4], doubled.Leaves());
    }

    [Fact]
    public void MapWithPath_PassesEachLeafPath()
    {
        Tree<int> tree = Tree.Dict<int>(("params", Tree.Dict(("w", 1), ("b", 2))), ("layers", Tree.List<int>(3, Tree.Empty<int>(), 4)));

        Tree<string> mapped = tree.MapWithPath(static (path, x) => $"{path}={x}");

        Assert.Equal(["layers/0=3", "layers/2=4", "params/b=2", "params/w=1"], mapped.Leaves(), StringComparer.Ordinal);
    }

    [Fact]
    public void Leaves_NestedTree_DepthFirstLeftToRight()
    {
        Tree<int> tree = Tree.List<int>(
            Tree.Dict<int>(("b", Tree.List<int>(2, 3)), ("a", 1)),
            4,
            Tree.List<int>(Tree.List<int>(5), Tree.Empty<int>(), 6));

        Assert.Equal([1, 2, 3, 4, 5, 6], tree.Leaves());
        Assert.Equal(6, tree.LeafCount);
    }

    [Fact]
    public void LeavesWithPaths_ModelLikeTree_PathsPrintWithSlashesAndListIndices()
    {
        Tree<string> tree = Tree.Dict<string>(
            ("params", Tree.Dict<string>(("dense1", Tree.Dict(("kernel", "k1"), ("bias", "b1"))))),
            ("layers", Tree.List<string>("l0", Tree.Empty<string>(), "l2")));

        var pairs = tree.LeavesWithPaths();

        Assert.Equal(
            ["layers/0", "layers/2", "params/dense1/bias", "params/dense1/kernel"],
            pairs.Select(static p => p.Key.ToString()),
            StringComparer.Ordinal);
        Assert.Equal(["l0", "l2", "b1", "k1"], pairs.Select(static p => p.Value), StringComparer.Ordinal);
        Assert.Equal(TreePath.Root.Append("layers").Append(2), pairs[1].Key);
    }

    [Fact]
    public void LeavesWithPaths_SingleLeaf_HasRootPath()
    {
        var pair = Assert.Single(Tree.Leaf(5).LeavesWithPaths());

        Assert.True(pair.Key.IsRoot);
        Assert.Equal(5, pair.Value);
    }

    [Fact]
    public void Flatten_Unflatten_RoundTrips()
    {
        Tree<int> tree = Tree.Dict<int>(("b", Tree.List<int>(1, Tree.Empty<int>(), 2)), ("a", Tree.Dict(("y", 3), ("x", 4))));

        (var leaves, TreeDef structure) = tree.Flatten();
        Tree<int> rebuilt = structure.Unflatten(leaves);

        Assert.Equal([4, 3, 1, 2], leaves);
        Assert.Equal(tree.Structure, rebuilt.Structure);
        Assert.Equal(tree.Leaves(), rebuilt.Leaves());
        Assert.Equal(tree.ToString(), rebuilt.ToString());
    }

    [Fact]
    public void Unflatten_OtherLeafType_KeepsStructure()
    {
        Tree<int> tree = Tree.Dict<int>(("a", 1), ("b", Tree.List<int>(2, Tree.Empty<int>())));

        Tree<string> rebuilt = tree.Structure.Unflatten(["x", "y"]);

        Assert.Equal("{'a': x, 'b': [y, None]}", rebuilt.ToString());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Unflatten_WrongLeafCount_ThrowsArgumentException(int count)
    {
        TreeDef structure = Tree.Dict(("a", 1), ("b", 2), ("c", 3)).Structure;

        var ex = Assert.Throws<ArgumentException>(() => structure.Unflatten(new int[count]));

        Assert.Equal(
            ExceptionText.WithParameter($"The structure PyTreeDef({{'a': *, 'b': *, 'c': *}}) has 3 leaves, but {count} were given.", "leaves"),
            ex.Message);
    }

    [Fact]
    public void MapTwoTrees_SameStructure_ZipsLeafByLeaf()
    {
        Tree<int> a = Tree.Dict<int>(("x", 1), ("y", Tree.List<int>(2, Tree.Empty<int>(), 3)));
        Tree<string> b = Tree.Dict<string>(("y", Tree.List<string>("b", Tree.Empty<string>(), "c")), ("x", "a"));

        Tree<string> zipped = Tree.Map(a, b, static (n, s) => $"{s}{n}");

        Assert.Equal("{'x': a1, 'y': [b2, None, c3]}", zipped.ToString());
    }

    [Fact]
    public void MapTwoTrees_DifferentStructure_ThrowsArgumentException()
    {
        Tree<int> a = Tree.Dict(("x", 1), ("y", 2));
        Tree<int> b = Tree.Dict(("x", 1), ("z", 2));

        var ex = Assert.Throws<ArgumentException>(() => Tree.Map(a, b, static (p, q) => p + q));

        Assert.Equal(
            ExceptionText.WithParameter("Tree structures differ: PyTreeDef({'x': *, 'y': *}) and PyTreeDef({'x': *, 'z': *}).", "second"),
            ex.Message);
    }

    [Fact]
    public void MapTwoTrees_EmptyVersusLeaf_ThrowsArgumentException()
    {
        Tree<int> a = Tree.List<int>(1, Tree.Empty<int>());
        Tree<int> b = Tree.List<int>(1, 2);

        Assert.Throws<ArgumentException>(() => Tree.Map(a, b, static (p, q) => p + q));
    }

    [Fact]
    public void GetSubtree_DictAndListPath_ReturnsNode()
    {
        Tree<int> tree = Tree.Dict<int>(
            ("params", Tree.Dict<int>(("dense1", Tree.Dict(("kernel", 1), ("bias", 2))))),
            ("layers", Tree.List<int>(3, Tree.Empty<int>(), Tree.Dict(("w", 4)))));

        Assert.Equal(1, tree.GetSubtree(TreePath.Parse("params/dense1/kernel")).Value);
        Assert.Equal([2, 1], tree.GetSubtree(TreePath.Parse("params/dense1")).Leaves());
        Assert.Equal(4, tree.GetSubtree(TreePath.Parse("layers/2/w")).Value);
        Assert.True(tree.GetSubtree(TreePath.Parse("layers/1")).IsEmpty);
        Assert.Same(tree, tree.GetSubtree(TreePath.Root));
    }

    [Theory]
    [InlineData("params/dense2")]
    [InlineData("layers/3")]
    [InlineData("layers/-1")]
    [InlineData("layers/x")]
    [InlineData("params/dense1/kernel/extra")]
    public void GetSubtree_MissingPath_ThrowsKeyNotFoundNamingThePath(string path)
    {
        Tree<int> tree = Tree.Dict<int>(
            ("params", Tree.Dict<int>(("dense1", Tree.Dict(("kernel", 1))))),
            ("layers", Tree.List<int>(3, 4, 5)));

        var ex = Assert.Throws<KeyNotFoundException>(() => tree.GetSubtree(TreePath.Parse(path)));

        Assert.Equal($"The tree has no node at '{path}'.", ex.Message);
    }

    [Fact]
    public void StringIndexer_MissingKey_MessageListsTheKeys()
    {
        Tree<int> tree = Tree.Dict(("b", 1), ("a", 2));

        var ex = Assert.Throws<KeyNotFoundException>(() => tree["c"]);

        Assert.Equal("The dict has no key 'c'; its keys are ['a', 'b'].", ex.Message);
    }

    [Fact]
    public void StringIndexer_ListNode_ThrowsKeyNotFound()
    {
        Tree<int> tree = Tree.List<int>(1, 2);

        var ex = Assert.Throws<KeyNotFoundException>(() => tree["0"]);

        Assert.Equal("A List node has no key '0'.", ex.Message);
    }

    [Fact]
    public void IntIndexer_OutOfRange_Throws()
    {
        Tree<int> tree = Tree.List<int>(1, 2);

        Assert.Equal(2, tree[1].Value);
        Assert.Throws<IndexOutOfRangeException>(() => tree[2]);
    }

    [Fact]
    public void IntIndexer_DictNode_IndexesInKeyOrder()
    {
        Tree<int> tree = Tree.Dict(("b", 1), ("a", 2));

        Assert.Equal(2, tree[0].Value);
        Assert.Equal(1, tree[1].Value);
    }

    [Fact]
    public void TryGetChild_PresentMissingAndNonDict_ReportsCorrectly()
    {
        Tree<int> dict = Tree.Dict(("a", 1));

        Assert.True(dict.TryGetChild("a", out Tree<int>? child));
        Assert.Equal(1, child.Value);
        Assert.False(dict.TryGetChild("b", out Tree<int>? missing));
        Assert.Null(missing);
        Assert.False(Tree.List<int>(1).TryGetChild("0", out _));
        Assert.False(Tree.Leaf(1).TryGetChild("a", out _));
    }

    [Fact]
    public void ToFlat_FromFlat_RoundTrips()
    {
        KeyValuePair<string, int>[] flat =
        [
            KeyValuePair.Create("step", 3),
            KeyValuePair.Create("params/dense1/kernel", 1),
            KeyValuePair.Create("params/dense1/bias", 2),
            KeyValuePair.Create("params/out", 4),
        ];

        Tree<int> tree = Tree.FromFlat(flat);

        Assert.Equal(
            "{'params': {'dense1': {'bias': 2, 'kernel': 1}, 'out': 4}, 'step': 3}",
            tree.ToString());
        Assert.Equal(
            ["params/dense1/bias", "params/dense1/kernel", "params/out", "step"],
            tree.ToFlat().Select(static p => p.Key),
            StringComparer.Ordinal);
        Assert.Equal([2, 1, 4, 3], tree.ToFlat().Select(static p => p.Value));
        Assert.Equal(tree.Structure, Tree.FromFlat(tree.ToFlat()).Structure);
    }

    [Fact]
    public void ToFlat_ListIndices_AppearAsNumbers()
    {
        Tree<int> tree = Tree.Dict<int>(("layers", Tree.List<int>(1, Tree.Empty<int>(), 2)));

        Assert.Equal(["layers/0", "layers/2"], tree.ToFlat().Select(static p => p.Key), StringComparer.Ordinal);
    }

    [Fact]
    public void FromFlat_NumericSegments_BuildDictsNotLists()
    {
        Tree<int> tree = Tree.FromFlat([KeyValuePair.Create("layers/1", 2), KeyValuePair.Create("layers/0", 1)]);

        Assert.Equal(TreeKind.Dict, tree["layers"].Kind);
        Assert.Equal(["0", "1"], tree["layers"].Keys, StringComparer.Ordinal);
    }

    [Fact]
    public void FromFlat_EmptyPath_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tree.FromFlat([KeyValuePair.Create(string.Empty, 1)]));

        Assert.Equal(ExceptionText.WithParameter("Flat tree paths must not be empty.", "flat"), ex.Message);
    }

    [Fact]
    public void FromFlat_RepeatedPath_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tree.FromFlat([KeyValuePair.Create("a/b", 1), KeyValuePair.Create("a/b", 2)]));

        Assert.Contains("'a/b' is repeated or is a prefix of another path", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFlat_LeafThenSubtree_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tree.FromFlat([KeyValuePair.Create("a", 1), KeyValuePair.Create("a/b", 2)]));

        Assert.Contains("'a' is both a leaf and a subtree", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromFlat_SubtreeThenLeaf_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tree.FromFlat([KeyValuePair.Create("x/a/b", 2), KeyValuePair.Create("x/a", 1)]));

        Assert.Equal("flat", ex.ParamName);
        Assert.Contains("'x/a'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HostArrayTree_FloatAndIntLeaves_HeldSideBySideWithoutCasts()
    {
        HostArray inputs = HostArray.From(new float[] { 1f, 2f, 3f, 4f, 5f, 6f }, 2, 3);
        HostArray labels = HostArray.From(new int[] { 7, 8 }, 2);

        Tree<HostArray> batch = Tree.Dict(("labels", labels), ("inputs", inputs));

        Assert.Equal([typeof(float), typeof(int)], batch.Leaves().Select(static a => a.ElementType));
        Assert.Equal([2L, 3L], batch["inputs"].Value.Shape);
        Assert.Equal(6f, batch["inputs"].Value.As<float>().Span[5]);
        Assert.Equal(8, batch["labels"].Value.As<int>().Span[1]);
        Assert.Equal(["HostArray<Single>(2, 3)", "HostArray<Int32>(2,)"], batch.Leaves().Select(static a => a.ToString()), StringComparer.Ordinal);
    }

    [Fact]
    public void DisposeLeaves_DisposesEveryLeafOnce()
    {
        var a = new CountingDisposable();
        var b = new CountingDisposable();
        var c = new CountingDisposable();
        Tree<CountingDisposable> tree = Tree.Dict<CountingDisposable>(
            ("a", a),
            ("rest", Tree.List<CountingDisposable>(b, Tree.Empty<CountingDisposable>(), c)));

        tree.DisposeLeaves();

        Assert.Equal(1, a.DisposeCount);
        Assert.Equal(1, b.DisposeCount);
        Assert.Equal(1, c.DisposeCount);
    }

    [Fact]
    public void DisposeLeaves_SameObjectInTwoLeaves_DisposedOncePerLeaf()
    {
        var shared = new CountingDisposable();
        Tree<CountingDisposable> tree = Tree.List<CountingDisposable>(shared, shared);

        tree.DisposeLeaves();

        Assert.Equal(2, shared.DisposeCount);
    }

    [Fact]
    public void ToString_MixedTree_PrintsPythonForm()
    {
        Tree<int> tree = Tree.Dict<int>(("b", Tree.List<int>(2, Tree.Empty<int>())), ("a", 1));

        Assert.Equal("{'a': 1, 'b': [2, None]}", tree.ToString());
    }

    [Fact]
    public void Structure_SameShapeDifferentLeafTypes_Equal()
    {
        Tree<int> ints = Tree.Dict<int>(("a", 1), ("b", Tree.List<int>(2, Tree.Empty<int>())));
        Tree<string> strings = Tree.Dict<string>(("a", "x"), ("b", Tree.List<string>("y", Tree.Empty<string>())));

        Assert.Equal(ints.Structure, strings.Structure);
    }

    private sealed class CountingDisposable : IDisposable
    {
        public int DisposeCount { get; private set; }

        public void Dispose() => DisposeCount++;
    }
}
