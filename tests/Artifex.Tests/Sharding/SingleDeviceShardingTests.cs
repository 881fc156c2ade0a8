namespace Artifex.Tests;

public sealed class SingleDeviceShardingTests
{
    [Fact]
    public void GetShardPlacements_Matrix_OnePlacementHoldingTheWholeArray()
    {
        Device device = new(3, "cpu", "cpu");
        var sharding = new SingleDeviceSharding(device);

        IReadOnlyList<ShardPlacement> placements = sharding.GetShardPlacements([5, 7]);

        ShardPlacement placement = Assert.Single(placements);
        Assert.Same(device, placement.Device);
        Assert.Equal([new DimensionSlice(0, 5), new DimensionSlice(0, 7)], placement.Index);
        Assert.Equal(0, placement.ReplicaId);
        Assert.Equal([5L, 7L], placement.Shape);
    }

    [Fact]
    public void GetShardPlacements_Scalar_OnePlacementWithEmptyIndex()
    {
        var sharding = new SingleDeviceSharding(new Device(0, "cpu", "cpu"));

        ShardPlacement placement = Assert.Single(sharding.GetShardPlacements([]));

        Assert.Empty(placement.Index);
        Assert.Empty(placement.Shape);
    }

    [Fact]
    public void GetShardShape_AnyShape_IsTheGlobalShape()
    {
        var sharding = new SingleDeviceSharding(new Device(0, "cpu", "cpu"));

        Assert.Equal([5L, 0L, 3L], sharding.GetShardShape([5, 0, 3]));
    }

    [Fact]
    public void GetValidationError_OddShape_IsValid()
    {
        var sharding = new SingleDeviceSharding(new Device(0, "cpu", "cpu"));

        Assert.Null(sharding.GetValidationError([7, 3, 1]));
        Assert.Null(sharding.GetValidationError([]));
    }

    [Fact]
    public void Validate_NegativeDimension_ThrowsWithLeafPath()
    {
        var sharding = new SingleDeviceSharding(new Device(0, "cpu", "cpu"));

        var ex = Assert.Throws<ArgumentException>(() => sharding.Validate([2, -1], TreePath.Parse("a/b")));

        Assert.Equal(
            ExceptionText.WithParameter("Array dimensions must be non-negative, but the shape is (2, -1). (leaf: a/b)", "globalShape"),
            ex.Message);
    }

    [Fact]
    public void Properties_OneDeviceAndFullyReplicated()
    {
        Device device = new(2, "cpu", "cpu");

        var sharding = new SingleDeviceSharding(device);

        Assert.Same(device, sharding.Device);
        Assert.Equal([device], sharding.Devices);
        Assert.True(sharding.IsFullyReplicated);
    }

    [Fact]
    public void Constructor_NullDevice_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => new SingleDeviceSharding(null!));
    }

    [Fact]
    public void ToString_PrintsLikeJax()
    {
        Assert.Equal("SingleDeviceSharding(device=cpu:1)", new SingleDeviceSharding(new Device(1, "cpu", "cpu")).ToString());
    }

    [Fact]
    public void Equals_SameDevice_EqualWithSameHash()
    {
        var a = new SingleDeviceSharding(new Device(1, "cpu", "cpu"));
        var b = new SingleDeviceSharding(new Device(1, "cpu", "cpu"));

        Assert.True(a.Equals(b));
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Fact]
    public void Equals_DifferentDevice_NotEqual()
    {
        var a = new SingleDeviceSharding(new Device(1, "cpu", "cpu"));

        Assert.False(a.Equals(new SingleDeviceSharding(new Device(2, "cpu", "cpu"))));
        Assert.False(a.Equals((SingleDeviceSharding?)null));
    }
}
