namespace Artifex.Tests;

public sealed class MeshAxisTests
{
    [Fact]
    public void ImplicitTuple_CopiesNameAndSize()
    {
        MeshAxis axis = ("model", 3);

        Assert.Equal("model", axis.Name);
        Assert.Equal(3, axis.Size);
        Assert.Equal(new MeshAxis("model", 3), MeshAxis.FromValueTuple(("model", 3)));
    }
}
