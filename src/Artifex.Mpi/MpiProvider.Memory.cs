using Artifex.Cpu;

namespace Artifex.Mpi;

/// <summary>Memory of the local devices: the CPU provider's <see cref="CpuMemory"/>.</summary>
public sealed partial class MpiProvider
{
    /// <inheritdoc/>
    protected override DeviceBuffer AllocateCore(Device device, Type elementType, int elementSize, long length) =>
        _memory.Allocate(this, device, elementType, elementSize, length);

    /// <inheritdoc/>
    protected override void CopyFromHostCore(ReadOnlySpan<byte> source, DeviceBuffer destination, long destinationByteOffset) =>
        CpuMemory.CopyFromHost(source, destination, destinationByteOffset);

    /// <inheritdoc/>
    protected override void CopyToHostCore(DeviceBuffer source, long sourceByteOffset, Span<byte> destination) =>
        CpuMemory.CopyToHost(source, sourceByteOffset, destination);

    /// <inheritdoc/>
    protected override void CopyCore(DeviceBuffer source, long sourceByteOffset, DeviceBuffer destination, long destinationByteOffset, long byteCount) =>
        CpuMemory.Copy(source, sourceByteOffset, destination, destinationByteOffset, byteCount);
}
