namespace Artifex.Tests;

public sealed class PartitionSpecTests
{
    [Fact]
    public void ToString_Empty_PrintsPartitionSpecWithNoEntries()
    {
        Assert.Equal("PartitionSpec()", new PartitionSpec().ToString());
        Assert.Equal("PartitionSpec()", PartitionSpec.Replicated.ToString());
    }

    [Fact]
    public void ToString_OneAxis_PrintsOneElementTuple()
    {
        Assert.Equal("PartitionSpec('data',)", new PartitionSpec("data").ToString());
    }

    [Fact]
    public void ToString_NoneThenAxis_PrintsNone()
    {
        Assert.Equal("PartitionSpec(None, 'model')", new PartitionSpec(null, "model").ToString());
    }

    [Fact]
    public void ToString_SingleNone_PrintsOneElementTuple()
    {
        Assert.Equal("PartitionSpec(None,)", new PartitionSpec(PartitionDim.None).ToString());
    }

    [Fact]
    public void ToString_TupleEntry_PrintsNestedTuple()
    {
        Assert.Equal("PartitionSpec(('data', 'model'),)", new PartitionSpec(("data", "model")).ToString());
    }

    [Fact]
    public void ToString_ThreeAxisTupleAndMore_PrintsEveryEntry()
    {
        var spec = new PartitionSpec(PartitionDim.Over("a", "b", "c"), null, "d");

        Assert.Equal("PartitionSpec(('a', 'b', 'c'), None, 'd')", spec.ToString());
    }

    [Fact]
    public void Constructor_NullArray_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => new PartitionSpec((PartitionDim[])null!));
    }

    [Fact]
    public void Constructor_SourceArrayMutatedAfterwards_SpecUnchanged()
    {
        PartitionDim[] entries = ["data", null];
        var spec = new PartitionSpec(entries);

        entries[0] = "model";

        Assert.Equal("PartitionSpec('data', None)", spec.ToString());
    }

    [Fact]
    public void Entries_ImplicitConversions_GiveExpectedEntries()
    {
        var spec = new PartitionSpec("data", null, ("a", "b"));

        Assert.Equal(3, spec.Count);
        Assert.Equal(PartitionDim.Over("data"), spec[0]);
        Assert.Equal(PartitionDim.None, spec[1]);
        Assert.False(spec[1].IsSplit);
        Assert.Equal(["a", "b"], spec[2].AxisNames);
    }

    [Fact]
    public void Replicated_HasNoEntriesAndIsShared()
    {
        Assert.Equal(0, PartitionSpec.Replicated.Count);
        Assert.Empty(PartitionSpec.Replicated.Entries);
        Assert.Same(PartitionSpec.Replicated, PartitionSpec.Replicated);
        Assert.Equal(new PartitionSpec(), PartitionSpec.Replicated);
    }

    [Fact]
    public void AxisNames_TupleAndSingleEntries_ListsNamesInOrder()
    {
        var spec = new PartitionSpec(("data", "model"), null, "pipe");

        Assert.Equal(["data", "model", "pipe"], spec.AxisNames, StringComparer.Ordinal);
    }

    [Fact]
    public void Equals_SameEntries_EqualWithSameHash()
    {
        var a = new PartitionSpec(null, ("data", "model"));
        var b = new PartitionSpec(PartitionDim.None, PartitionDim.Over("data", "model"));

        Assert.True(a.Equals(b));
        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Fact]
    public void Equals_TrailingNone_IsADifferentValue()
    {
        var a = new PartitionSpec("data");
        var b = new PartitionSpec("data", null);

        Assert.NotEqual(a, b);
        Assert.True(a != b);
    }

    [Fact]
    public void Equals_TupleOrderMatters_NotEqual()
    {
        Assert.NotEqual(new PartitionSpec(("data", "model")), new PartitionSpec(("model", "data")));
    }

    [Fact]
    public void Equals_TupleVersusTwoEntries_NotEqual()
    {
        Assert.NotEqual(new PartitionSpec(("data", "model")), new PartitionSpec("data", "model"));
    }

    [Fact]
    public void Equals_CaseDiffers_NotEqual()
    {
        Assert.NotEqual(new PartitionSpec("data"), new PartitionSpec("Data"));
    }

    [Fact]
    public void Equals_Null_IsFalse()
    {
        var spec = new PartitionSpec("data");
        PartitionSpec? none = null;

        Assert.False(spec.Equals(none));
        Assert.False(spec == none);
        Assert.True(spec != none);
        Assert.True(none == null);
    }
}
