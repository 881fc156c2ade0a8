using Artifex.Cuda.Native;
using Artifex.Cuda.Runtime;

namespace Artifex.Cuda;

// Device memory and copies.
public sealed unsafe partial class CudaProvider
{
    /// <inheritdoc/>
    protected override DeviceBuffer AllocateCore(Device device, Type elementType, int elementSize, long length)
    {
        CudaDeviceState state = GetState(device);
        long bytes = checked(length * elementSize);
        if (bytes == 0)
        {
            return new CudaBuffer(this, device, state, elementType, elementSize, length, memory: null);
        }

        state.MakeCurrent();
        ulong pointer;
        CudaCheck.Driver(CuDriver.cuMemAlloc_v2(&pointer, (nuint)bytes), "cuMemAlloc_v2");
        var memory = new CudaResourceHandle(CudaResourceKind.Memory, (nint)pointer, state.Context);
        return new CudaBuffer(this, device, state, elementType, elementSize, length, memory);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The memory must be on the device's GPU and usable in its primary context (as memory from the CUDA runtime, which
    /// libtorch uses, is). Work on it is ordered on this provider's stream: the caller synchronises the other library's
    /// stream before handing the memory over, and this provider's before the other library uses it again.
    /// </remarks>
    protected override DeviceBuffer WrapExternalCore(Device device, Type elementType, int elementSize, long length, nint address) =>
        new CudaBuffer(this, device, GetState(device), elementType, elementSize, length, external: (ulong)address);

    /// <inheritdoc/>
    protected override nint GetAddress(DeviceBuffer buffer) => (nint)((CudaBuffer)buffer).Pointer;

    /// <inheritdoc/>
    protected override void CopyFromHostCore(ReadOnlySpan<byte> source, DeviceBuffer destination, long destinationByteOffset)
    {
        if (source.IsEmpty)
        {
            return;
        }

        var target = (CudaBuffer)destination;
        CudaDeviceState state = target.State;
        state.MakeCurrent();
        fixed (byte* pointer = source)
        {
            // The span is pageable and only fixed for this call, so the copy must finish before returning.
            CudaCheck.Driver(CuDriver.cuMemcpyHtoDAsync_v2(target.Pointer + (ulong)destinationByteOffset, pointer, (nuint)source.Length, state.StreamValue), "cuMemcpyHtoDAsync_v2");
            CudaCheck.Driver(CuDriver.cuStreamSynchronize(state.StreamValue), "cuStreamSynchronize");
        }
    }

    /// <inheritdoc/>
    protected override void CopyToHostCore(DeviceBuffer source, long sourceByteOffset, Span<byte> destination)
    {
        if (destination.IsEmpty)
        {
            return;
        }

        var origin = (CudaBuffer)source;
        CudaDeviceState state = origin.State;
        state.MakeCurrent();
        fixed (byte* pointer = destination)
        {
            CudaCheck.Driver(CuDriver.cuMemcpyDtoHAsync_v2(pointer, origin.Pointer + (ulong)sourceByteOffset, (nuint)destination.Length, state.StreamValue), "cuMemcpyDtoHAsync_v2");
            CudaCheck.Driver(CuDriver.cuStreamSynchronize(state.StreamValue), "cuStreamSynchronize");
        }
    }

    /// <inheritdoc/>
    protected override void CopyCore(DeviceBuffer source, long sourceByteOffset, DeviceBuffer destination, long destinationByteOffset, long byteCount)
    {
        if (byteCount == 0)
        {
            return;
        }

        var from = (CudaBuffer)source;
        var to = (CudaBuffer)destination;
        ulong sourceAddress = from.Pointer + (ulong)sourceByteOffset;
        ulong destinationAddress = to.Pointer + (ulong)destinationByteOffset;
        if (ReferenceEquals(from.State, to.State))
        {
            to.State.MakeCurrent();
            if (sourceAddress < destinationAddress + (ulong)byteCount && destinationAddress < sourceAddress + (ulong)byteCount)
            {
                CopyOverlapping(to.State, sourceAddress, destinationAddress, byteCount);
                return;
            }

            CudaCheck.Driver(CuDriver.cuMemcpyDtoDAsync_v2(destinationAddress, sourceAddress, (nuint)byteCount, to.State.StreamValue), "cuMemcpyDtoDAsync_v2");
            return;
        }

        // Between GPUs: the source's queued writes must land first, and the copy must be done before either stream reuses
        // the memory, so both ends are synchronized. The peer form names both contexts, so it works with or without P2P.
        from.State.Synchronize();
        to.State.MakeCurrent();
        CudaCheck.Driver(
            CuDriver.cuMemcpyPeerAsync(destinationAddress, to.State.Context.DangerousGetHandle(), sourceAddress, from.State.Context.DangerousGetHandle(), (nuint)byteCount, to.State.StreamValue),
            "cuMemcpyPeerAsync");
        CudaCheck.Driver(CuDriver.cuStreamSynchronize(to.State.StreamValue), "cuStreamSynchronize");
    }

    /// <summary>An overlapping copy within one buffer (memmove semantics, as on the CPU): device-to-device copies must not overlap, so it goes through a temporary.</summary>
    private static void CopyOverlapping(CudaDeviceState state, ulong source, ulong destination, long byteCount)
    {
        ulong temporary;
        CudaCheck.Driver(CuDriver.cuMemAlloc_v2(&temporary, (nuint)byteCount), "cuMemAlloc_v2");
        try
        {
            CudaCheck.Driver(CuDriver.cuMemcpyDtoDAsync_v2(temporary, source, (nuint)byteCount, state.StreamValue), "cuMemcpyDtoDAsync_v2");
            CudaCheck.Driver(CuDriver.cuMemcpyDtoDAsync_v2(destination, temporary, (nuint)byteCount, state.StreamValue), "cuMemcpyDtoDAsync_v2");
            CudaCheck.Driver(CuDriver.cuStreamSynchronize(state.StreamValue), "cuStreamSynchronize");
        }
        finally
        {
            _ = CuDriver.cuMemFree_v2(temporary);
        }
    }

    /// <summary>Divides a floating-point buffer in place by a group size (the second half of a mean).</summary>
    internal void Divide(CudaBuffer buffer, int divisor) => Scale(buffer, divisor, divide: true);

    /// <summary>Queues a copy of <paramref name="count"/> elements between buffers on the same GPU, unless they are the same memory.</summary>
    internal static void CopyOnDevice(CudaBuffer input, CudaBuffer output, long count)
    {
        if (input.Pointer == output.Pointer || count == 0)
        {
            return;
        }

        output.State.MakeCurrent();
        CudaCheck.Driver(CuDriver.cuMemcpyDtoDAsync_v2(output.Pointer, input.Pointer, (nuint)(count * input.ElementSize), output.State.StreamValue), "cuMemcpyDtoDAsync_v2");
    }

    /// <summary>Multiplies or divides a Single, Double or Half buffer in place on its stream: the kernels' Scale and Divide, and a mean's division.</summary>
    internal void Scale(CudaBuffer buffer, double factor, bool divide)
    {
        long n = buffer.Length;
        if (n == 0)
        {
            return;
        }

        CudaDeviceState state = buffer.State;
        state.MakeCurrent();
        ulong pointer = buffer.Pointer;
        int mode = divide ? 1 : 0;
        if (buffer.ElementType == typeof(double))
        {
            void** arguments = stackalloc void*[] { &pointer, &n, &factor, &mode };
            Launcher.Launch(state, CudaKernel.ScaleDouble, n, arguments);
        }
        else
        {
            // Single and Half are scaled by the factor rounded to Single once, as the CPU provider converts it once.
            float single = (float)factor;
            void** arguments = stackalloc void*[] { &pointer, &n, &single, &mode };
            Launcher.Launch(state, buffer.ElementType == typeof(Half) ? CudaKernel.ScaleHalf : CudaKernel.ScaleSingle, n, arguments);
        }
    }
}
