namespace Artifex.Tests;

public sealed class DimensionSliceTests
{
    [Theory]
    [InlineData(0, 3, 3, "0:3")]
    [InlineData(2, 2, 4, "2:4")]
    [InlineData(5, 0, 5, "5:5")]
    public void StopAndToString_PythonSliceForm(long start, long length, long stop, string text)
    {
        var slice = new DimensionSlice(start, length);

        Assert.Equal(stop, slice.Stop);
        Assert.Equal(text, slice.ToString());
    }

    [Fact]
    public void Equals_SameStartAndLength_Equal()
    {
        Assert.Equal(new DimensionSlice(2, 2), new DimensionSlice(2, 2));
        Assert.NotEqual(new DimensionSlice(2, 2), new DimensionSlice(2, 3));
    }
}
