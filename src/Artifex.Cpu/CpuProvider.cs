using System.Collections.Immutable;
using System.Globalization;

namespace Artifex.Cpu;

/// <summary>
/// Emulates N devices in one process, each with its own 64-byte aligned native memory.
/// </summary>
/// <remarks>
/// The counterpart of JAX's <c>--xla_force_host_platform_device_count</c>: deterministic multi-device code on a
/// laptop or CI machine. The device count comes from the constructor, or from the environment variable
/// <c>ARTIFEX_CPU_DEVICES</c>; without either it is <see cref="DefaultDeviceCount"/> (1, as JAX's CPU backend).
/// </remarks>
public sealed class CpuProvider : DeviceProvider
{
    /// <summary>The platform name of CPU devices.</summary>
    public const string PlatformName = "cpu";

    /// <summary>The environment variable that sets the device count of <see cref="CpuProvider()"/>.</summary>
    public const string DeviceCountVariable = "ARTIFEX_CPU_DEVICES";

    /// <summary>The device count when neither the constructor nor the environment sets one.</summary>
    public const int DefaultDeviceCount = 1;

    private readonly ImmutableArray<Device> _devices;

    /// <summary>Creates a provider whose device count is read from <c>ARTIFEX_CPU_DEVICES</c> (default 1).</summary>
    /// <exception cref="InvalidOperationException">The variable is set but is not a positive integer.</exception>
    public CpuProvider()
        : this(ReadDeviceCount())
    {
    }

    /// <summary>Creates a provider emulating <paramref name="deviceCount"/> devices.</summary>
    /// <param name="deviceCount">The number of devices (1 or more; may exceed the core count).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="deviceCount"/> is below 1.</exception>
    public CpuProvider(int deviceCount)
        : base(PlatformName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(deviceCount, 1);
        _devices = [.. Enumerable.Range(0, deviceCount).Select(id => CreateDevice(id, PlatformName))];
    }

    /// <inheritdoc/>
    public override IReadOnlyList<Device> Devices => _devices;

    /// <summary>Reads the device count from <c>ARTIFEX_CPU_DEVICES</c>, or returns <see cref="DefaultDeviceCount"/> when it is unset.</summary>
    /// <returns>The device count.</returns>
    /// <exception cref="InvalidOperationException">The variable is set but is not a positive integer.</exception>
    public static int ReadDeviceCount()
    {
        string? text = Environment.GetEnvironmentVariable(DeviceCountVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return DefaultDeviceCount;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count < 1)
        {
            throw new InvalidOperationException($"{DeviceCountVariable} must be a positive integer, but is '{text}'.");
        }

        return count;
    }

    /// <summary>Gets the memory of a CPU buffer as a span. For the CPU provider's kernels and collectives.</summary>
    internal static Span<T> GetSpan<T>(DeviceBuffer buffer)
        where T : unmanaged => ((CpuBuffer)buffer).AsSpan<T>();

    /// <inheritdoc/>
    protected override DeviceBuffer AllocateCore(Device device, Type elementType, int elementSize, long length) =>
        new CpuBuffer(this, device, elementType, elementSize, length);

    /// <inheritdoc/>
    protected override unsafe void CopyFromHostCore(ReadOnlySpan<byte> source, DeviceBuffer destination, long destinationByteOffset)
    {
        var target = (CpuBuffer)destination;
        source.CopyTo(new Span<byte>((byte*)target.Pointer + destinationByteOffset, source.Length));
    }

    /// <inheritdoc/>
    protected override unsafe void CopyToHostCore(DeviceBuffer source, long sourceByteOffset, Span<byte> destination)
    {
        var origin = (CpuBuffer)source;
        new ReadOnlySpan<byte>((byte*)origin.Pointer + sourceByteOffset, destination.Length).CopyTo(destination);
    }

    /// <inheritdoc/>
    protected override unsafe void CopyCore(DeviceBuffer source, long sourceByteOffset, DeviceBuffer destination, long destinationByteOffset, long byteCount)
    {
        byte* from = (byte*)((CpuBuffer)source).Pointer + sourceByteOffset;
        byte* to = (byte*)((CpuBuffer)destination).Pointer + destinationByteOffset;
        Buffer.MemoryCopy(from, to, byteCount, byteCount);
    }

}
