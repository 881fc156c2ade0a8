namespace Artifex.Cpu;

/// <summary>
/// A buffer of an emulated CPU device: 64-byte aligned native memory, off the GC heap; or, when
/// <see cref="DeviceBuffer.IsExternal"/>, a view of host memory someone else owns, at whatever alignment it has.
/// </summary>
public sealed unsafe class CpuBuffer : DeviceBuffer
{
    /// <summary>The alignment of every buffer the provider allocates: one cache line, and one Vector512.</summary>
    public const int Alignment = 64;

    private readonly void* _pointer;
    private readonly CpuMemoryPool? _pool;

    internal CpuBuffer(DeviceProvider provider, CpuMemoryPool pool, Device device, Type elementType, int elementSize, long length)
        : base(provider, device, elementType, elementSize, length)
    {
        _pool = pool;

        // Zero-length buffers still get a real allocation so every live buffer has a distinct pointer.
        _pointer = pool.Rent(AllocationBytes);
    }

    /// <summary>Wraps host memory the buffer does not own; freeing it does nothing.</summary>
    internal CpuBuffer(DeviceProvider provider, Device device, Type elementType, int elementSize, long length, void* external)
        : base(provider, device, elementType, elementSize, length)
    {
        _pointer = external;
    }

    private nuint AllocationBytes => (nuint)Math.Max(SizeInBytes, 1);

    /// <summary>Gets the address of the first element: 64-byte aligned unless external, valid until the buffer is disposed.</summary>
    public void* Address => _pointer;

    /// <summary>Gets the elements as a span (buffers of up to <see cref="int.MaxValue"/> elements).</summary>
    /// <typeparam name="T">The element type, the buffer's own.</typeparam>
    /// <returns>The span; valid until the buffer is disposed.</returns>
    /// <exception cref="OverflowException">The buffer holds more than <see cref="int.MaxValue"/> elements.</exception>
    public Span<T> AsSpan<T>()
        where T : unmanaged => new(_pointer, checked((int)Length));

    /// <inheritdoc/>
    protected override void Free() => _pool?.Return(_pointer, AllocationBytes);
}
