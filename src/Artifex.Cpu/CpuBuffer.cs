namespace Artifex.Cpu;

/// <summary>A buffer of an emulated CPU device: 64-byte aligned native memory, off the GC heap.</summary>
internal sealed unsafe class CpuBuffer : DeviceBuffer
{
    /// <summary>The alignment of every buffer: one cache line, and one Vector512.</summary>
    public const int Alignment = 64;

    private readonly void* _pointer;
    private readonly CpuMemoryPool _pool;

    public CpuBuffer(DeviceProvider provider, CpuMemoryPool pool, Device device, Type elementType, int elementSize, long length)
        : base(provider, device, elementType, elementSize, length)
    {
        _pool = pool;

        // Zero-length buffers still get a real allocation so every live buffer has a distinct pointer.
        _pointer = pool.Rent(AllocationBytes);
    }

    private nuint AllocationBytes => (nuint)Math.Max(SizeInBytes, 1);

    public void* Pointer => _pointer;

    public Span<T> AsSpan<T>()
        where T : unmanaged => new(_pointer, checked((int)Length));

    protected override void Free() => _pool.Return(_pointer, AllocationBytes);
}
