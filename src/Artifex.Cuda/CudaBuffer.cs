using Artifex.Cuda.Native;
using Artifex.Cuda.Runtime;

namespace Artifex.Cuda;

/// <summary>A block of device memory on one GPU (<c>cuMemAlloc</c>), freed when disposed or when its provider is; or a view of another library's memory, never freed here.</summary>
internal sealed class CudaBuffer : DeviceBuffer
{
    private readonly CudaResourceHandle? _memory;

    public CudaBuffer(CudaProvider provider, Device device, CudaDeviceState state, Type elementType, int elementSize, long length, CudaResourceHandle? memory)
        : base(provider, device, elementType, elementSize, length)
    {
        State = state;
        _memory = memory;
        Pointer = memory is null ? 0 : (ulong)memory.Value;
    }

    /// <summary>Wraps device memory the buffer does not own (another library's allocation on the same GPU); freeing it does nothing.</summary>
    public CudaBuffer(CudaProvider provider, Device device, CudaDeviceState state, Type elementType, int elementSize, long length, ulong external)
        : base(provider, device, elementType, elementSize, length)
    {
        State = state;
        Pointer = external;
    }

    /// <summary>Gets the device state of the GPU holding the memory.</summary>
    public CudaDeviceState State { get; }

    /// <summary>Gets the device address (0 for an empty buffer).</summary>
    public ulong Pointer { get; }

    /// <summary>Gets the address of an element.</summary>
    public ulong At(long element) => Pointer + (ulong)(element * ElementSize);

    protected override void Free()
    {
        if (_memory is null)
        {
            return;
        }

        try
        {
            // cuMemFree does not wait for kernels on non-blocking streams that may still use the memory: drain the stream first.
            State.Synchronize();
        }
        catch (CudaException error)
        {
            // The stream's failure was (or will be) reported by the work that caused it; freeing must still happen and
            // must not throw from Dispose, where it would mask that original error.
            ((CudaProvider)Provider).ReportReleaseFailure(this, error);
        }
        finally
        {
            _memory.Dispose();
        }
    }
}
