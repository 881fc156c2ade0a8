using System.Numerics.Tensors;
using Artifex.Cpu;

namespace Artifex.Mpi;

/// <summary>Memory of the local devices: the CPU provider's aligned native buffers.</summary>
public sealed unsafe partial class MpiProvider
{
    /// <inheritdoc/>
    protected override DeviceBuffer AllocateCore(Device device, Type elementType, int elementSize, long length) =>
        new CpuBuffer(this, _pool, device, elementType, elementSize, length);

    /// <inheritdoc/>
    protected override void CopyFromHostCore(ReadOnlySpan<byte> source, DeviceBuffer destination, long destinationByteOffset) =>
        source.CopyTo(new Span<byte>((byte*)((CpuBuffer)destination).Pointer + destinationByteOffset, source.Length));

    /// <inheritdoc/>
    protected override void CopyToHostCore(DeviceBuffer source, long sourceByteOffset, Span<byte> destination) =>
        new ReadOnlySpan<byte>((byte*)((CpuBuffer)source).Pointer + sourceByteOffset, destination.Length).CopyTo(destination);

    /// <inheritdoc/>
    protected override void CopyCore(DeviceBuffer source, long sourceByteOffset, DeviceBuffer destination, long destinationByteOffset, long byteCount)
    {
        byte* from = (byte*)((CpuBuffer)source).Pointer + sourceByteOffset;
        byte* to = (byte*)((CpuBuffer)destination).Pointer + destinationByteOffset;
        Buffer.MemoryCopy(from, to, byteCount, byteCount);
    }

    /// <inheritdoc/>
    protected override void ScaleCore(DeviceBuffer buffer, double factor, bool divide)
    {
        if (buffer.ElementType == typeof(float))
        {
            Span<float> x = CpuProvider.GetSpan<float>(buffer);
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

        Span<double> y = CpuProvider.GetSpan<double>(buffer);
        if (divide)
        {
            TensorPrimitives.Divide(y, factor, y);
        }
        else
        {
            TensorPrimitives.Multiply(y, factor, y);
        }
    }
}
