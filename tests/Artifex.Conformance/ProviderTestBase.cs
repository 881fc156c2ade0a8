namespace Artifex.Conformance;

/// <summary>
/// The base of every provider conformance suite: a provider derives one concrete class per suite and says how
/// to create itself with N devices. Each test ends with the leak check.
/// </summary>
public abstract class ProviderTestBase
{
    /// <summary>The device counts every multi-device test runs with.</summary>
    public static TheoryData<int> DeviceCounts => [1, 2, 4, 8];

    /// <summary>Creates a provider with <paramref name="deviceCount"/> devices, or skips the test when the provider cannot.</summary>
    protected abstract DeviceProvider CreateProvider(int deviceCount);

    /// <summary>Runs <paramref name="body"/> on a fresh provider, then checks that no buffer is still live.</summary>
    protected void WithProvider(int deviceCount, Action<DeviceProvider> body)
    {
        using DeviceProvider provider = CreateProvider(deviceCount);
        body(provider);
        Assert.Equal(0, provider.LiveBufferCount);
    }

    /// <summary>Allocates memory of <paramref name="device"/> that <paramref name="provider"/> did not allocate: host memory unless overridden.</summary>
    protected virtual ForeignMemory AllocateForeign(DeviceProvider provider, Device device, long bytes) => new(bytes);

    protected static float[] Iota(long count) => [.. Enumerable.Range(0, checked((int)count)).Select(static i => (float)i)];
}
