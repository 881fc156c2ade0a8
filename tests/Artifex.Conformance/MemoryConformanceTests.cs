namespace Artifex.Conformance;

/// <summary>Allocation, copies, validation and disposal: the memory half of the provider contract.</summary>
public abstract class MemoryConformanceTests : ProviderTestBase
{
    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void Devices_AreDistinctAndOwnedByProvider(int deviceCount) => WithProvider(deviceCount, provider =>
    {
        Assert.Equal(deviceCount, provider.Devices.Count);
        Assert.Equal(deviceCount, provider.Devices.Distinct().Count());
        Assert.All(provider.Devices, d => Assert.Same(provider, d.Provider));
        Assert.All(provider.Devices, d => Assert.Equal(provider.Platform, d.Platform));
        Assert.Equal(Enumerable.Range(0, deviceCount), provider.Devices.Select(d => d.Id));
    });

    [Fact]
    public void WrapExternal_WritesTheOwnersMemoryInPlace_CountsNoBytes_AndDisposingFreesNothing() => WithProvider(1, provider =>
    {
        Device device = provider.Devices[0];
        using ForeignMemory memory = AllocateForeign(provider, device, 4 * sizeof(float));
        long bytes = provider.LiveBytes;
        using (DeviceBuffer view = provider.WrapExternal<float>(device, memory.Address, 4))
        {
            Assert.True(view.IsExternal);
            Assert.Equal(1, provider.LiveBufferCount);
            Assert.Equal(bytes, provider.LiveBytes);
            provider.CopyFromHost<float>([1, 2, 3, 4], view);
        }

        Assert.Equal(0, provider.LiveBufferCount);
        using DeviceArray<float> again = DeviceArray.FromExternal<float>(device, memory.Address, () => memory.IsAlive, 2, 2);
        Assert.Equal([1f, 2, 3, 4], again.ToArray());
    });

    [Fact]
    public void WrapExternal_OwnerReleasedTheMemory_EveryUseThrowsObjectDisposed() => WithProvider(1, provider =>
    {
        Device device = provider.Devices[0];
        using ForeignMemory memory = AllocateForeign(provider, device, 4 * sizeof(float));
        bool alive = true;
        using DeviceBuffer view = provider.WrapExternal<float>(device, memory.Address, 4, () => alive);
        provider.CopyFromHost<float>([1, 2, 3, 4], view);

        alive = false;
        Assert.True(view.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => provider.CopyToHost<float>(view, 0, new float[4]));
        Assert.Throws<ObjectDisposedException>(() => provider.CopyFromHost<float>([5, 6, 7, 8], view));
    });

    [Fact]
    public void WrapExternal_BadArguments_AreRefusedNamingTheArgument() => WithProvider(1, provider =>
    {
        Device device = provider.Devices[0];
        Assert.Equal("address", Assert.Throws<ArgumentException>(() => provider.WrapExternal<float>(device, 0, 4)).ParamName);
        Assert.Equal("length", Assert.Throws<ArgumentOutOfRangeException>(() => provider.WrapExternal<float>(device, 64, -1)).ParamName);
        Assert.Equal("length", Assert.Throws<ArgumentOutOfRangeException>(() => provider.WrapExternal<double>(device, 64, long.MaxValue / 4)).ParamName);
        using DeviceProvider other = CreateProvider(1);
        Assert.Equal("device", Assert.Throws<ArgumentException>(() => provider.WrapExternal<float>(other.Devices[0], 64, 4)).ParamName);
        using DeviceBuffer empty = provider.WrapExternal<float>(device, 0, 0);
        Assert.Equal(0, empty.Length);
    });

    [Fact]
    public void WrapExternal_ProviderDisposedWhileAViewIsLive_TheOwnersMemoryStays()
    {
        DeviceProvider provider = CreateProvider(1);
        Device device = provider.Devices[0];
        using ForeignMemory memory = AllocateForeign(provider, device, 4 * sizeof(float));
        DeviceBuffer view = provider.WrapExternal<float>(device, memory.Address, 4);
        provider.CopyFromHost<float>([1, 2, 3, 4], view);
        provider.Dispose();

        Assert.True(view.IsDisposed);
        using DeviceProvider next = CreateProvider(1);
        using DeviceArray<float> again = DeviceArray.FromExternal<float>(next.Devices[0], memory.Address, null, 4);
        Assert.Equal([1f, 2, 3, 4], again.ToArray());
    }

    [Fact]
    public void CopyFromHostThenToHost_Float_RoundTrips() => RoundTrip([1.5f, -2f, float.NaN, 3e38f]);

    [Fact]
    public void CopyFromHostThenToHost_Double_RoundTrips() => RoundTrip([1.5, -2.0, double.Epsilon]);

    [Fact]
    public void CopyFromHostThenToHost_Int_RoundTrips() => RoundTrip([1, int.MinValue, int.MaxValue]);

    [Fact]
    public void CopyFromHostThenToHost_Long_RoundTrips() => RoundTrip([1L, long.MinValue, long.MaxValue]);

    [Fact]
    public void CopyFromHostThenToHost_Half_RoundTrips() => RoundTrip([(Half)1.5f, Half.MaxValue, Half.Epsilon]);

    [Fact]
    public void CopyFromHost_WithOffset_WritesOnlyThatRange() => WithProvider(1, provider =>
    {
        using DeviceBuffer buffer = provider.Allocate<int>(provider.Devices[0], 6);
        provider.CopyFromHost<int>([0, 0, 0, 0, 0, 0], buffer);
        provider.CopyFromHost<int>([7, 8], buffer, 3);
        var back = new int[6];
        provider.CopyToHost<int>(buffer, 0, back);
        Assert.Equal([0, 0, 0, 7, 8, 0], back);
        var tail = new int[2];
        provider.CopyToHost<int>(buffer, 4, tail);
        Assert.Equal([8, 0], tail);
    });

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Copy_BetweenDevices_CopiesTheRange(int deviceCount) => WithProvider(deviceCount, provider =>
    {
        using DeviceBuffer source = provider.Allocate<float>(provider.Devices[0], 4);
        using DeviceBuffer destination = provider.Allocate<float>(provider.Devices[^1], 5);
        provider.CopyFromHost<float>([1, 2, 3, 4], source);
        provider.CopyFromHost<float>([0, 0, 0, 0, 0], destination);
        provider.Copy(source, 1, destination, 2, 3);
        var back = new float[5];
        provider.CopyToHost<float>(destination, 0, back);
        Assert.Equal([0f, 0, 2, 3, 4], back);
    });

    [Fact]
    public void Allocate_ZeroLength_IsCountedAndFreed() => WithProvider(1, provider =>
    {
        DeviceBuffer buffer = provider.Allocate<double>(provider.Devices[0], 0);
        Assert.Equal(1, provider.LiveBufferCount);
        Assert.Equal(0, buffer.SizeInBytes);
        buffer.Dispose();
        buffer.Dispose();
        Assert.Equal(0, provider.LiveBufferCount);
    });

    [Fact]
    public void Allocate_NegativeLength_Throws() => WithProvider(1, provider =>
        Assert.Throws<ArgumentOutOfRangeException>(() => provider.Allocate<float>(provider.Devices[0], -1)));

    [Fact]
    public void Allocate_LengthWhoseByteSizeWraps_ThrowsBeforeAllocating() => WithProvider(1, provider =>
    {
        // 2^62 + 16 floats is 2^64 + 64 bytes: a wrapping size would give a 64-byte buffer that claims 2^62 elements.
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => provider.Allocate<float>(provider.Devices[0], (1L << 62) + 16));

        Assert.Equal("length", error.ParamName);
        Assert.Contains("4611686018427387920 elements of Single (4 bytes each)", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.LiveBufferCount);
    });

    [Fact]
    public void Allocate_ForeignDevice_ThrowsNamingDevice() => WithProvider(1, provider =>
    {
        var foreign = new Device(0, provider.Platform, "descriptor");
        ArgumentException error = Assert.Throws<ArgumentException>(() => provider.Allocate<float>(foreign, 4));
        Assert.Contains("does not belong", error.Message, StringComparison.Ordinal);
    });

    [Fact]
    public void CopyFromHost_WrongElementType_ThrowsBeforeWriting() => WithProvider(1, provider =>
    {
        using DeviceBuffer buffer = provider.Allocate<float>(provider.Devices[0], 2);
        provider.CopyFromHost<float>([1, 2], buffer);
        ArgumentException error = Assert.Throws<ArgumentException>(() => provider.CopyFromHost<int>([5, 6], buffer));
        Assert.Contains("holds Single elements, not Int32", error.Message, StringComparison.Ordinal);
        var back = new float[2];
        provider.CopyToHost<float>(buffer, 0, back);
        Assert.Equal([1f, 2f], back);
    });

    [Theory]
    [InlineData(0, 5)]
    [InlineData(3, 2)]
    [InlineData(-1, 1)]
    [InlineData(5, 0)]
    public void CopyToHost_OutOfRange_Throws(long offset, int count) => WithProvider(1, provider =>
    {
        using DeviceBuffer buffer = provider.Allocate<int>(provider.Devices[0], 4);
        ArgumentException error = Assert.Throws<ArgumentException>(() => provider.CopyToHost(buffer, offset, new int[count]));
        Assert.Contains("outside", error.Message, StringComparison.Ordinal);
    });

    [Fact]
    public void Copy_DisposedBuffer_ThrowsObjectDisposed() => WithProvider(1, provider =>
    {
        DeviceBuffer buffer = provider.Allocate<int>(provider.Devices[0], 4);
        buffer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => provider.CopyFromHost<int>([1], buffer));
    });

    [Fact]
    public void Copy_BufferOfAnotherProvider_Throws() => WithProvider(1, provider =>
    {
        using DeviceProvider other = CreateProvider(1);
        using DeviceBuffer foreign = other.Allocate<int>(other.Devices[0], 4);
        ArgumentException error = Assert.Throws<ArgumentException>(() => provider.CopyFromHost<int>([1], foreign));
        Assert.Contains("another provider", error.Message, StringComparison.Ordinal);
    });

    [Fact]
    public void Dispose_FreesBuffersStillLive()
    {
        DeviceProvider provider = CreateProvider(2);
        DeviceBuffer a = provider.Allocate<float>(provider.Devices[0], 1024);
        DeviceBuffer b = provider.Allocate<long>(provider.Devices[1], 16);
        Assert.Equal(2, provider.LiveBufferCount);
        Assert.Equal((1024 * 4) + (16 * 8), provider.LiveBytes);
        provider.Dispose();
        Assert.Equal(0, provider.LiveBufferCount);
        Assert.True(a.IsDisposed);
        Assert.True(b.IsDisposed);
        a.Dispose();
        Assert.Throws<ObjectDisposedException>(() => provider.Allocate<float>(provider.Devices[0], 1));
    }

    private void RoundTrip<T>(T[] values)
        where T : unmanaged => WithProvider(2, provider =>
    {
        foreach (Device device in provider.Devices)
        {
            using DeviceBuffer buffer = provider.Allocate<T>(device, values.Length);
            Assert.Equal(typeof(T), buffer.ElementType);
            Assert.Equal(device, buffer.Device);
            provider.CopyFromHost<T>(values, buffer);
            var back = new T[values.Length];
            provider.CopyToHost<T>(buffer, 0, back);
            Assert.Equal(values, back);
        }
    });

    [Fact]
    public void Slice_ViewsPartOfABuffer_WritesShowInTheParent_AndDieWithIt() => WithProvider(1, provider =>
    {
        Device device = provider.Devices[0];
        DeviceBuffer parent = provider.Allocate<float>(device, 10);
        provider.CopyFromHost<float>(Iota(10), parent);
        long liveBytes = provider.LiveBytes;
        using DeviceBuffer view = provider.Slice(parent, 3, 4);
        Assert.True(view.IsExternal);
        Assert.Equal(4, view.Length);
        Assert.Equal(liveBytes, provider.LiveBytes);

        var read = new float[4];
        provider.CopyToHost<float>(view, 0, read);
        Assert.Equal([3f, 4f, 5f, 6f], read);
        provider.Kernels.Fill(view, -1f);
        var all = new float[10];
        provider.CopyToHost<float>(parent, 0, all);
        Assert.Equal([0f, 1f, 2f, -1f, -1f, -1f, -1f, 7f, 8f, 9f], all);

        Assert.Throws<ArgumentException>(() => provider.Slice(parent, 8, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => provider.Slice(parent, 0, -1));
        parent.Dispose();
        Assert.True(view.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => provider.CopyToHost<float>(view, 0, read));
    });
}
