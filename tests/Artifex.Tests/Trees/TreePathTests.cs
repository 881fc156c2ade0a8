namespace Artifex.Tests;

public sealed class TreePathTests
{
    [Fact]
    public void Root_IsEmpty()
    {
        TreePath root = TreePath.Root;

        Assert.True(root.IsRoot);
        Assert.Empty(root.Segments);
        Assert.Equal(string.Empty, root.ToString());
        Assert.Equal(default, root);
    }

    [Fact]
    public void Append_KeysAndIndex_PrintsSlashSeparated()
    {
        TreePath path = TreePath.Root.Append("params").Append("layers").Append(12).Append("kernel");

        Assert.False(path.IsRoot);
        Assert.Equal(["params", "layers", "12", "kernel"], path.Segments, StringComparer.Ordinal);
        Assert.Equal("params/layers/12/kernel", path.ToString());
    }

    [Fact]
    public void Append_DoesNotChangeTheOriginal()
    {
        TreePath parent = TreePath.Root.Append("a");

        TreePath child = parent.Append("b");
        TreePath sibling = parent.Append("c");

        Assert.Equal("a", parent.ToString());
        Assert.Equal("a/b", child.ToString());
        Assert.Equal("a/c", sibling.ToString());
    }

    [Fact]
    public void Parse_Text_EqualsAppendedPath()
    {
        TreePath parsed = TreePath.Parse("batch/0/x");

        Assert.Equal(TreePath.Root.Append("batch").Append(0).Append("x"), parsed);
        Assert.Equal("batch/0/x", parsed.ToString());
    }

    [Fact]
    public void Parse_Empty_IsRoot()
    {
        TreePath parsed = TreePath.Parse(string.Empty);

        Assert.True(parsed.IsRoot);
        Assert.True(parsed == TreePath.Root);
    }

    [Fact]
    public void Parse_Null_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => TreePath.Parse(null!));
    }

    [Fact]
    public void Equals_SameSegments_EqualWithSameHash()
    {
        TreePath a = TreePath.Parse("a/b");
        TreePath b = TreePath.Root.Append("a").Append("b");

        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Fact]
    public void Equals_DifferentSegments_NotEqual()
    {
        Assert.True(TreePath.Parse("a/b") != TreePath.Parse("a/c"));
        Assert.True(TreePath.Parse("a/b") != TreePath.Parse("a"));
        Assert.True(TreePath.Parse("a") != TreePath.Parse("A"));
        Assert.True(TreePath.Parse("a") != TreePath.Root);
        Assert.False(TreePath.Parse("a").Equals((object)"a"));
    }

    [Fact]
    public void Equals_IndexAndNumericKey_Equal()
    {
        Assert.Equal(TreePath.Root.Append(3), TreePath.Root.Append("3"));
    }

    [Fact]
    public void GetHashCode_EqualPaths_UsableAsDictionaryKey()
    {
        var lookup = new Dictionary<TreePath, int> { [TreePath.Parse("x/y")] = 1 };

        Assert.Equal(1, lookup[TreePath.Root.Append("x").Append("y")]);
        Assert.False(lookup.ContainsKey(TreePath.Parse("x")));
    }
}
