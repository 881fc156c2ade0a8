using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Artifex.Cpu;

namespace Artifex.Mpi.Runtime;

/// <summary>The in-process half of a hierarchical collective: reductions and copies over this process's buffers.</summary>
internal static class LocalReduce
{
    /// <summary>Combines <paramref name="source"/> into <paramref name="accumulator"/> element by element: accumulator = accumulator ∘ source.</summary>
    public static void Combine(DeviceBuffer accumulator, DeviceBuffer source, ReduceOp op)
    {
        Type type = accumulator.ElementType;
        if (type == typeof(float))
        {
            Combine(Span<float>(accumulator), Span<float>(source), op);
        }
        else if (type == typeof(double))
        {
            Combine(Span<double>(accumulator), Span<double>(source), op);
        }
        else if (type == typeof(int))
        {
            Combine(Span<int>(accumulator), Span<int>(source), op);
        }
        else if (type == typeof(Half))
        {
            Combine(Span<Half>(accumulator), Span<Half>(source), op);
        }
        else
        {
            Combine(Span<long>(accumulator), Span<long>(source), op);
        }
    }

    /// <summary>Divides a Single or Double buffer by the group size once: the second half of a mean, as on the CPU provider.</summary>
    public static void Divide(DeviceBuffer buffer, int divisor)
    {
        if (buffer.ElementType == typeof(float))
        {
            Span<float> x = Span<float>(buffer);
            TensorPrimitives.Divide(x, divisor, x);
        }
        else if (buffer.ElementType == typeof(Half))
        {
            Span<Half> h = Span<Half>(buffer);
            TensorPrimitives.Divide(h, (Half)divisor, h);
        }
        else
        {
            Span<double> x = Span<double>(buffer);
            TensorPrimitives.Divide(x, divisor, x);
        }
    }

    /// <summary>Copies <paramref name="count"/> elements between buffers unless they are the same memory.</summary>
    public static void Copy(DeviceBuffer source, long sourceOffset, DeviceBuffer destination, long destinationOffset, long count)
    {
        Span<byte> from = Bytes(source).Slice(checked((int)(sourceOffset * source.ElementSize)), checked((int)(count * source.ElementSize)));
        Span<byte> to = Bytes(destination).Slice(checked((int)(destinationOffset * destination.ElementSize)), from.Length);
        // The same memory needs no copy; any other overlap is copied as memmove does.
        if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(from), ref MemoryMarshal.GetReference(to)))
        {
            from.CopyTo(to);
        }
    }

    public static unsafe void* Pointer(DeviceBuffer buffer) => ((CpuBuffer)buffer).Address;

    public static unsafe Span<byte> Bytes(DeviceBuffer buffer) => new(((CpuBuffer)buffer).Address, checked((int)buffer.SizeInBytes));

    private static Span<T> Span<T>(DeviceBuffer buffer)
        where T : unmanaged => ((CpuBuffer)buffer).AsSpan<T>();

    private static void Combine<T>(Span<T> accumulator, ReadOnlySpan<T> source, ReduceOp op)
        where T : unmanaged, System.Numerics.INumber<T>
    {
        switch (op)
        {
            case ReduceOp.Max:
                TensorPrimitives.Max<T>(accumulator, source, accumulator);
                break;
            case ReduceOp.Min:
                TensorPrimitives.Min<T>(accumulator, source, accumulator);
                break;
            default:
                TensorPrimitives.Add<T>(accumulator, source, accumulator);
                break;
        }
    }
}
