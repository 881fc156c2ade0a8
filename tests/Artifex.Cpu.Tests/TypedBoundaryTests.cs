using Artifex.Runtime;

namespace Artifex.Cpu.Tests;

/// <summary>The typed way into a region's data: As&lt;T&gt;, a global array's local block, a tree's local blocks; and their refusals.</summary>
public sealed class TypedBoundaryTests
{
    [Fact]
    public void GetLocalBlock_IsAViewOfTheShardWithItsShape_TypedOnGlobalArrayOfT()
    {
        using var provider = new CpuProvider(2);
        var mesh = new Mesh(provider.Devices, ("data", 2));
        using GlobalArray<float> array = GlobalArray.DevicePut(new HostArray<float>([1f, 2f, 3f, 4f, 5f, 6f], 2, 3), new NamedSharding(mesh, new PartitionSpec("data")));
        DeviceArray<float> block = array.GetLocalBlock(provider.Devices[1]);
        Assert.Equal([1L, 3L], block.Shape);
        Assert.Equal([4f, 5f, 6f], block.ToArray());
        block.CopyFrom([7f, 8f, 9f]);
        Assert.Equal([1f, 2f, 3f, 7f, 8f, 9f], array.ToArray());
        block.Dispose();
        Assert.False(array.IsDisposed);
        Assert.Same(array, ((GlobalArray)array).As<float>());
    }

    [Fact]
    public void As_WrongElementType_ThrowsInvalidCastNamingBothTypes()
    {
        using var provider = new CpuProvider(1);
        using DeviceArray<int> ints = DeviceArray.FromHost(provider.Devices[0], new HostArray<int>([1, 2], 2));
        var error = Assert.Throws<InvalidCastException>(() => ((DeviceArray)ints).As<float>());
        Assert.Equal("DeviceArray<Int32>(2,) on cpu:0 holds Int32 elements, not Single.", error.Message);
        using GlobalArray<int> global = GlobalArray.DevicePut(new HostArray<int>([1, 2], 2), new SingleDeviceSharding(provider.Devices[0]));
        Assert.Contains("holds Int32 elements, not Double.", Assert.Throws<InvalidCastException>(() => ((GlobalArray)global).As<double>()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LocalBlocks_DeviceWithoutAShard_ThrowsNamingTheLeafPath()
    {
        using var provider = new CpuProvider(2);
        using GlobalArray<float> onFirst = GlobalArray.DevicePut(new HostArray<float>([1f], 1), new SingleDeviceSharding(provider.Devices[0]));
        Tree<GlobalArray> tree = Tree.Dict<GlobalArray>(("params", Tree.Dict<GlobalArray>(("w", onFirst))));
        Assert.Equal([1f], tree.LocalBlocks(provider.Devices[0])["params"]["w"].Value.As<float>().ToArray());
        var error = Assert.Throws<ArgumentException>(() => tree.LocalBlocks(provider.Devices[1]));
        Assert.Contains("Device cpu:1 holds no shard of this array.", error.Message, StringComparison.Ordinal);
        Assert.Contains("(leaf: params/w)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SpmdWorkerPool_DevicesWithGapsInTheirIds_IsRefused()
    {
        using var provider = new CpuProvider(3);
        var error = Assert.Throws<ArgumentException>(() => new SpmdWorkerPool([provider.Devices[0], provider.Devices[2]], pinThreads: false));
        Assert.Contains("consecutive ids", error.Message, StringComparison.Ordinal);
    }
}
