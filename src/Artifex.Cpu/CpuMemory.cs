using System.Numerics.Tensors;

namespace Artifex.Cpu;

/// <summary>
/// The memory of emulated CPU devices: 64-byte aligned native buffers (<see cref="CpuBuffer"/>) from a caching
/// allocator, and the copies and scalings between them. The CPU provider's, and a building block for providers whose
/// local devices are CPU memory (the MPI provider).
/// </summary>
public sealed class CpuMemory : IDisposable
{
    private readonly CpuMemoryPool _pool;

    /// <summary>Creates the memory with a cache limit.</summary>
    /// <param name="cachedBytesLimit">How many bytes of freed buffers to keep for reuse; 0 frees at once.</param>
    /// <exception cref="ArgumentOutOfRangeException">The limit is negative.</exception>
    public CpuMemory(long cachedBytesLimit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cachedBytesLimit);
        _pool = new CpuMemoryPool(cachedBytesLimit);
    }

    /// <summary>
    /// Gets or sets how many bytes of freed buffers are kept for reuse (same-size allocations then skip the system
    /// allocator and the page faults of fresh memory). 0 frees at once.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public long CachedBytesLimit
    {
        get => _pool.LimitBytes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _pool.LimitBytes = value;
            if (_pool.CachedBytes > value)
            {
                _pool.Trim();
            }
        }
    }

    /// <summary>Gets the bytes of freed buffers currently kept for reuse.</summary>
    public long CachedBytes => _pool.CachedBytes;

    /// <summary>Copies host bytes into a buffer (a provider's <c>CopyFromHostCore</c>; arguments already validated).</summary>
    /// <param name="source">The bytes.</param>
    /// <param name="destination">A <see cref="CpuBuffer"/>.</param>
    /// <param name="destinationByteOffset">Where in the buffer the bytes go.</param>
    public static unsafe void CopyFromHost(ReadOnlySpan<byte> source, DeviceBuffer destination, long destinationByteOffset) =>
        source.CopyTo(new Span<byte>((byte*)((CpuBuffer)destination).Address + destinationByteOffset, source.Length));

    /// <summary>Copies a buffer's bytes to host memory (a provider's <c>CopyToHostCore</c>; arguments already validated).</summary>
    /// <param name="source">A <see cref="CpuBuffer"/>.</param>
    /// <param name="sourceByteOffset">Where in the buffer the bytes start.</param>
    /// <param name="destination">The host bytes.</param>
    public static unsafe void CopyToHost(DeviceBuffer source, long sourceByteOffset, Span<byte> destination) =>
        new ReadOnlySpan<byte>((byte*)((CpuBuffer)source).Address + sourceByteOffset, destination.Length).CopyTo(destination);

    /// <summary>Copies bytes between buffers, overlapping ranges as memmove does (a provider's <c>CopyCore</c>).</summary>
    /// <param name="source">A <see cref="CpuBuffer"/>.</param>
    /// <param name="sourceByteOffset">Where the bytes start in the source.</param>
    /// <param name="destination">A <see cref="CpuBuffer"/>.</param>
    /// <param name="destinationByteOffset">Where they go in the destination.</param>
    /// <param name="byteCount">How many bytes.</param>
    public static unsafe void Copy(DeviceBuffer source, long sourceByteOffset, DeviceBuffer destination, long destinationByteOffset, long byteCount)
    {
        byte* from = (byte*)((CpuBuffer)source).Address + sourceByteOffset;
        byte* to = (byte*)((CpuBuffer)destination).Address + destinationByteOffset;
        Buffer.MemoryCopy(from, to, byteCount, byteCount);
    }

    /// <summary>Multiplies or divides a Single or Double buffer by a factor in place, one rounding per element (a provider's <c>ScaleCore</c>).</summary>
    /// <param name="buffer">A <see cref="CpuBuffer"/> of Single or Double elements.</param>
    /// <param name="factor">The factor.</param>
    /// <param name="divide">True to divide.</param>
    public static void Scale(DeviceBuffer buffer, double factor, bool divide)
    {
        var cpu = (CpuBuffer)buffer;
        if (buffer.ElementType == typeof(float))
        {
            Span<float> x = cpu.AsSpan<float>();
            if (divide)
            {
                TensorPrimitives.Divide(x, (float)factor, x);
            }
            else
            {
                TensorPrimitives.Multiply(x, (float)factor, x);
            }

            return;
        }

        Span<double> y = cpu.AsSpan<double>();
        if (divide)
        {
            TensorPrimitives.Divide(y, factor, y);
        }
        else
        {
            TensorPrimitives.Multiply(y, factor, y);
        }
    }

    /// <summary>Allocates a buffer (a provider's <c>AllocateCore</c>; arguments already validated).</summary>
    /// <param name="owner">The provider the buffer belongs to.</param>
    /// <param name="device">Its device.</param>
    /// <param name="elementType">The element type.</param>
    /// <param name="elementSize">The element size in bytes.</param>
    /// <param name="length">The element count.</param>
    /// <returns>The buffer, 64-byte aligned.</returns>
    public DeviceBuffer Allocate(DeviceProvider owner, Device device, Type elementType, int elementSize, long length) =>
        new CpuBuffer(owner, _pool, device, elementType, elementSize, length);

    /// <summary>Frees every cached buffer. Buffers still in use stay valid until disposed.</summary>
    public void Dispose() => _pool.Dispose();
}
