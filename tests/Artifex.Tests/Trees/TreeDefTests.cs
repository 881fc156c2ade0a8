namespace Artifex.Tests;

public sealed class TreeDefTests
{
    [Fact]
    public void ToString_DictWithListAndNone_PrintsLikeJax()
    {
        Tree<int> tree = Tree.Dict<int>(("b", Tree.List<int>(2, Tree.Empty<int>())), ("a", 1));

        Assert.Equal("PyTreeDef({'a': *, 'b': [*, None]})", tree.Structure.ToString());
    }

    [Fact]
    public void ToString_LeafEmptyAndEmptyContainers()
    {
        Assert.Equal("PyTreeDef(*)", Tree.Leaf(1).Structure.ToString());
        Assert.Equal("PyTreeDef(None)", Tree.Empty<int>().Structure.ToString());
        Assert.Equal("PyTreeDef([])", Tree.List<int>().Structure.ToString());
        Assert.Equal("PyTreeDef({})", Tree.Dict<int>(Array.Empty<KeyValuePair<string, Tree<int>>>()).Structure.ToString());
    }

    [Fact]
    public void Properties_DescribeTheNode()
    {
        TreeDef structure = Tree.Dict<int>(("b", Tree.List<int>(2, Tree.Empty<int>(), 3)), ("a", 1)).Structure;

        Assert.Equal(TreeKind.Dict, structure.Kind);
        Assert.Equal(["a", "b"], structure.Keys, StringComparer.Ordinal);
        Assert.Equal(3, structure.LeafCount);
        Assert.Equal(TreeKind.Leaf, structure.Children[0].Kind);
        Assert.Equal(TreeKind.List, structure.Children[1].Kind);
        Assert.Equal(TreeKind.Empty, structure.Children[1].Children[1].Kind);
    }

    [Fact]
    public void Equals_SameStructure_EqualWithSameHash()
    {
        TreeDef a = Tree.Dict<int>(("x", 1), ("y", Tree.List<int>(2, Tree.Empty<int>()))).Structure;
        TreeDef b = Tree.Dict<double>(("y", Tree.List<double>(5.0, Tree.Empty<double>())), ("x", 4.0)).Structure;

        Assert.True(a.Equals(b));
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Fact]
    public void Equals_DifferentKeys_NotEqual()
    {
        Assert.NotEqual(Tree.Dict(("x", 1)).Structure, Tree.Dict(("y", 1)).Structure);
    }

    [Fact]
    public void Equals_DictVersusList_NotEqual()
    {
        Assert.NotEqual(Tree.Dict(("0", 1)).Structure, Tree.List<int>(1).Structure);
    }

    [Fact]
    public void Equals_EmptyVersusLeaf_NotEqual()
    {
        Assert.NotEqual(Tree.List<int>(1, Tree.Empty<int>()).Structure, Tree.List<int>(1, 2).Structure);
        Assert.NotEqual(Tree.Empty<int>().Structure, Tree.Leaf(1).Structure);
    }

    [Fact]
    public void Equals_ListOrderOfChildKinds_Matters()
    {
        Tree<int> first = Tree.List<int>(Tree.List<int>(1), 2);
        Tree<int> second = Tree.List<int>(1, Tree.List<int>(2));

        Assert.NotEqual(first.Structure, second.Structure);
    }

    [Fact]
    public void Equals_Null_IsFalse()
    {
        Assert.False(Tree.Leaf(1).Structure.Equals(null));
    }

    [Fact]
    public void Unflatten_NullLeaves_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => Tree.Leaf(1).Structure.Unflatten<int>(null!));
    }

    [Fact]
    public void Unflatten_Leaves_FillLeafPositionsInOrder()
    {
        TreeDef structure = Tree.List<int>(Tree.Dict(("b", 0), ("a", 0)), Tree.Empty<int>(), 0).Structure;

        Tree<int> tree = structure.Unflatten([10, 20, 30]);

        Assert.Equal("[{'a': 10, 'b': 20}, None, 30]", tree.ToString());
    }
}
