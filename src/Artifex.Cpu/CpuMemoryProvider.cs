namespace Artifex.Cpu;

/// <summary>
/// The base of providers whose devices' memory is CPU memory (<see cref="CpuMemory"/>): the CPU provider, and the MPI
/// provider's local devices. It implements the contract's memory half once; a derived provider adds its devices,
/// kernels and SPMD runtime.
/// </summary>
public abstract class CpuMemoryProvider : DeviceProvider
{
    /// <summary>Initializes the provider and its memory.</summary>
    /// <param name="platform">The devices' platform name.</param>
    /// <param name="cachedBytesLimit">How many bytes of freed buffers the memory keeps for reuse.</param>
    protected CpuMemoryProvider(string platform, long cachedBytesLimit)
        : base(platform)
    {
        Memory = new CpuMemory(cachedBytesLimit);
    }

    /// <summary>Gets the memory the provider's buffers come from.</summary>
    protected CpuMemory Memory { get; }

    /// <inheritdoc/>
    protected override DeviceBuffer AllocateCore(Device device, Type elementType, int elementSize, long length) =>
        Memory.Allocate(this, device, elementType, elementSize, length);

    /// <inheritdoc/>
    protected override unsafe DeviceBuffer WrapExternalCore(Device device, Type elementType, int elementSize, long length, nint address) =>
        new CpuBuffer(this, device, elementType, elementSize, length, (void*)address);

    /// <inheritdoc/>
    protected override unsafe nint GetAddress(DeviceBuffer buffer) => (nint)((CpuBuffer)buffer).Address;

    /// <inheritdoc/>
    protected override void CopyFromHostCore(ReadOnlySpan<byte> source, DeviceBuffer destination, long destinationByteOffset) =>
        CpuMemory.CopyFromHost(source, destination, destinationByteOffset);

    /// <inheritdoc/>
    protected override void CopyToHostCore(DeviceBuffer source, long sourceByteOffset, Span<byte> destination) =>
        CpuMemory.CopyToHost(source, sourceByteOffset, destination);

    /// <inheritdoc/>
    protected override void CopyCore(DeviceBuffer source, long sourceByteOffset, DeviceBuffer destination, long destinationByteOffset, long byteCount) =>
        CpuMemory.Copy(source, sourceByteOffset, destination, destinationByteOffset, byteCount);

    /// <inheritdoc/>
    /// <remarks>Frees the live buffers (the contract's part), then the cached memory.</remarks>
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Memory.Dispose();
        }
    }
}
