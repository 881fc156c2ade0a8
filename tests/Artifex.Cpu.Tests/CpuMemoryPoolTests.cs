namespace Artifex.Cpu.Tests;

public sealed class CpuMemoryPoolTests
{
    [Fact]
    public unsafe void Allocate_AfterFreeOfSameSize_ReusesMemoryAndCountsItAsLive()
    {
        using var provider = new CpuProvider(1);
        DeviceBuffer first = provider.Allocate<float>(provider.Devices[0], 1000);
        nint address = (nint)((CpuBuffer)first).Address;
        first.Dispose();
        Assert.Equal(0, provider.LiveBufferCount);
        Assert.Equal(4000, provider.CachedBytes);
        using DeviceBuffer second = provider.Allocate<float>(provider.Devices[0], 1000);
        Assert.Equal(address, (nint)((CpuBuffer)second).Address);
        Assert.Equal(1, provider.LiveBufferCount);
        Assert.Equal(0, provider.CachedBytes);
    }

    [Fact]
    public void CachedBytesLimit_Zero_FreesAtOnceAndTrims()
    {
        using var provider = new CpuProvider(1);
        provider.Allocate<double>(provider.Devices[0], 100).Dispose();
        Assert.Equal(800, provider.CachedBytes);
        provider.CachedBytesLimit = 0;
        Assert.Equal(0, provider.CachedBytes);
        provider.Allocate<double>(provider.Devices[0], 100).Dispose();
        Assert.Equal(0, provider.CachedBytes);
        Assert.Throws<ArgumentOutOfRangeException>(() => provider.CachedBytesLimit = -1);
    }

    [Fact]
    public void Scale_And_Divide_FloatAndDouble_InPlace()
    {
        using var provider = new CpuProvider(1);
        using DeviceArray<float> f = DeviceArray.FromHost(provider.Devices[0], new HostArray<float>([1f, 2f, 3f], 3));
        using DeviceArray<double> d = DeviceArray.FromHost(provider.Devices[0], new HostArray<double>([1.0, 4.0], 2));
        using DeviceArray<int> i = DeviceArray.FromHost(provider.Devices[0], new HostArray<int>([1], 1));
        provider.Kernels.Scale(2, f.Buffer);
        provider.Kernels.Divide(d.Buffer, 4);
        Assert.Equal([2f, 4f, 6f], f.ToArray());
        Assert.Equal([0.25, 1.0], d.ToArray());
        ArgumentException error = Assert.Throws<ArgumentException>(() => provider.Kernels.Scale(2, i.Buffer));
        Assert.Contains("needs Single or Double", error.Message, StringComparison.Ordinal);
    }
}
