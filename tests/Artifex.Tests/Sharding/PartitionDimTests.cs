namespace Artifex.Tests;

public sealed class PartitionDimTests
{
    [Fact]
    public void None_IsUnsplitWithNoAxes()
    {
        PartitionDim none = PartitionDim.None;

        Assert.False(none.IsSplit);
        Assert.Empty(none.AxisNames);
        Assert.Equal("None", none.ToString());
    }

    [Fact]
    public void ImplicitString_OneAxis_IsSplitOverThatAxis()
    {
        PartitionDim dim = "data";

        Assert.True(dim.IsSplit);
        Assert.Equal(["data"], dim.AxisNames);
        Assert.Equal("'data'", dim.ToString());
    }

    [Fact]
    public void ImplicitString_Null_IsNone()
    {
        string? name = null;
        PartitionDim dim = name;

        Assert.Equal(PartitionDim.None, dim);
        Assert.False(dim.IsSplit);
    }

    [Fact]
    public void ImplicitTuple_Pair_KeepsMajorFirst()
    {
        PartitionDim dim = ("data", "model");

        Assert.True(dim.IsSplit);
        Assert.Equal(["data", "model"], dim.AxisNames);
        Assert.Equal("('data', 'model')", dim.ToString());
    }

    [Fact]
    public void FromString_NameAndNull_MatchImplicitConversion()
    {
        Assert.Equal(PartitionDim.Over("data"), PartitionDim.FromString("data"));
        Assert.Equal(PartitionDim.None, PartitionDim.FromString(null));
    }

    [Fact]
    public void Over_NoNames_IsUnsplitAndEqualsNone()
    {
        PartitionDim dim = PartitionDim.Over();

        Assert.False(dim.IsSplit);
        Assert.Equal(PartitionDim.None, dim);
        Assert.Equal(PartitionDim.None.GetHashCode(), dim.GetHashCode());
        Assert.Equal("None", dim.ToString());
    }

    [Fact]
    public void Over_EmptyName_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => PartitionDim.Over("data", string.Empty));

        Assert.Equal("axisNames", ex.ParamName);
        Assert.Contains("must be non-empty", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Over_NullName_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => PartitionDim.Over(null!, "data"));
    }

    [Fact]
    public void Over_NullArray_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => PartitionDim.Over(null!));
    }

    [Fact]
    public void ImplicitString_EmptyName_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => (PartitionDim)string.Empty);
    }

    [Fact]
    public void Over_SourceArrayMutatedAfterwards_EntryUnchanged()
    {
        string[] names = ["data", "model"];
        PartitionDim dim = PartitionDim.Over(names);

        names[0] = "pipe";

        Assert.Equal(["data", "model"], dim.AxisNames);
    }

    [Fact]
    public void Equals_SameNames_EqualWithSameHash()
    {
        PartitionDim a = ("data", "model");
        PartitionDim b = PartitionDim.Over("data", "model");

        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Fact]
    public void Equals_DifferentNamesOrOrder_NotEqual()
    {
        PartitionDim data = "data";
        PartitionDim pair = ("data", "model");
        PartitionDim reversed = ("model", "data");

        Assert.True(data != pair);
        Assert.True(pair != reversed);
        Assert.True(data != PartitionDim.None);
        Assert.False(pair.Equals((object)"data"));
    }
}
