namespace Artifex.Tests;

public sealed class ShardPlacementTests
{
    [Fact]
    public void ToString_SplitRows_PrintsDeviceSlicesAndReplica()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 4)), new PartitionSpec("data"));

        ShardPlacement placement = sharding.GetShardPlacements([8, 3])[1];

        Assert.Equal("cpu:1 [2:4, 0:3] replica 0", placement.ToString());
    }

    [Fact]
    public void Shape_IsTheLengthOfEverySlice()
    {
        var sharding = new NamedSharding(new Mesh(TestDevices.Create(4), ("data", 2), ("model", 2)), new PartitionSpec(null, "model"));

        ShardPlacement placement = sharding.GetShardPlacements([8, 6, 5])[3];

        Assert.Equal([8L, 3L, 5L], placement.Shape);
        Assert.Equal(1, placement.ReplicaId);
    }
}
