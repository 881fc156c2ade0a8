using Artifex.Distributed;

namespace Artifex.Cpu.Tests;

[Collection(ProcessState.Name)]
public sealed class CpuProviderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(64)]
    public unsafe void Allocate_AnyLength_Is64ByteAligned(int length)
    {
        using var provider = new CpuProvider(2);
        using DeviceBuffer a = provider.Allocate<byte>(provider.Devices[0], length);
        using DeviceBuffer b = provider.Allocate<Half>(provider.Devices[1], length);
        Assert.Equal(0, (long)((CpuBuffer)a).Address % CpuBuffer.Alignment);
        Assert.Equal(0, (long)((CpuBuffer)b).Address % CpuBuffer.Alignment);
    }

    [Fact]
    public void Devices_HaveCpuPlatformKindAndProcessZero()
    {
        using var provider = new CpuProvider(3);
        Assert.All(provider.Devices, d => Assert.Equal(("cpu", "cpu", 0), (d.Platform, d.Kind, d.ProcessIndex)));
        Assert.Equal("cpu:2", provider.Devices[2].ToString());
    }

    [Fact]
    public void Devices_OfTwoProviders_AreNotEqual()
    {
        using var first = new CpuProvider(1);
        using var second = new CpuProvider(1);
        Assert.NotEqual(first.Devices[0], second.Devices[0]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Constructor_CountBelowOne_Throws(int count) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new CpuProvider(count));

    [Fact]
    public void Constructor_EnvironmentVariable_SetsDeviceCount()
    {
        string? previous = Environment.GetEnvironmentVariable(CpuProvider.DeviceCountVariable);
        try
        {
            Environment.SetEnvironmentVariable(CpuProvider.DeviceCountVariable, "6");
            using (var provider = new CpuProvider())
            {
                Assert.Equal(6, provider.Devices.Count);
            }

            Environment.SetEnvironmentVariable(CpuProvider.DeviceCountVariable, null);
            Assert.Equal(CpuProvider.DefaultDeviceCount, CpuProvider.ReadDeviceCount());

            Environment.SetEnvironmentVariable(CpuProvider.DeviceCountVariable, "four");
            InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => new CpuProvider());
            Assert.Equal("ARTIFEX_CPU_DEVICES must be a positive integer, but is 'four'.", error.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(CpuProvider.DeviceCountVariable, previous);
        }
    }

    [Fact]
    public void DeviceMeshManager_Parameterless_UsesDefaultProvider()
    {
        DeviceProvider? previous = DeviceProvider.Default;
        var provider = new CpuProvider(4);
        try
        {
            DeviceProvider.Default = provider;
            var manager = new DeviceMeshManager();
            Assert.Equal(provider.Devices, manager.Devices);
            Assert.Equal([4], manager.CreateDataParallelMesh().AxisSizes);
            provider.Dispose();
            Assert.Null(DeviceProvider.Default);
        }
        finally
        {
            provider.Dispose();
            DeviceProvider.Default = previous;
        }
    }

    [Fact]
    public void Buffers_MemoryIsNativeNotManaged()
    {
        using var provider = new CpuProvider(1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        using DeviceBuffer buffer = provider.Allocate<float>(provider.Devices[0], 1 << 20);
        long managed = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(managed < 64 * 1024, $"Allocating 4 MiB of device memory allocated {managed} managed bytes.");
        Assert.Equal(4L << 20, provider.LiveBytes);
    }
}
