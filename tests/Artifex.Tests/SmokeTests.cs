namespace Artifex.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void PartitionSpec_Replicated_PrintsLikeJax() =>
        Assert.Equal("PartitionSpec()", PartitionSpec.Replicated.ToString());
}
