using System.Runtime.InteropServices;

namespace Artifex.Cpu;

/// <summary>
/// Keeps freed device memory for reuse, keyed by exact size (a caching allocator, as PyTorch's). On this kind of VM a
/// fresh multi-megabyte allocation runs several times slower until the host has backed its pages, so a training loop
/// that allocates the same gradient shapes every step would otherwise pay that on every step. Bounded by
/// <see cref="CpuProvider.CachedBytesLimit"/>; everything cached is freed when the provider is disposed.
/// </summary>
internal sealed unsafe class CpuMemoryPool : IDisposable
{
    private readonly Dictionary<nuint, Stack<nint>> _free = [];
    private readonly Lock _gate = new();
    private long _cachedBytes;

    public CpuMemoryPool(long limitBytes)
    {
        LimitBytes = limitBytes;
    }

    public long LimitBytes { get; set; }

    public long CachedBytes => Volatile.Read(ref _cachedBytes);

    public void* Rent(nuint bytes)
    {
        lock (_gate)
        {
            if (_free.TryGetValue(bytes, out Stack<nint>? stack) && stack.TryPop(out nint pointer))
            {
                _cachedBytes -= (long)bytes;
                return (void*)pointer;
            }
        }

        return NativeMemory.AlignedAlloc(bytes, CpuBuffer.Alignment);
    }

    public void Return(void* pointer, nuint bytes)
    {
        lock (_gate)
        {
            if (_cachedBytes + (long)bytes <= LimitBytes)
            {
                if (!_free.TryGetValue(bytes, out Stack<nint>? stack))
                {
                    _free[bytes] = stack = new Stack<nint>();
                }

                stack.Push((nint)pointer);
                _cachedBytes += (long)bytes;
                return;
            }
        }

        NativeMemory.AlignedFree(pointer);
    }

    /// <summary>Frees everything cached (the live buffers are the provider's business).</summary>
    public void Trim()
    {
        lock (_gate)
        {
            foreach (Stack<nint> stack in _free.Values)
            {
                while (stack.TryPop(out nint pointer))
                {
                    NativeMemory.AlignedFree((void*)pointer);
                }
            }

            _free.Clear();
            _cachedBytes = 0;
        }
    }

    public void Dispose() => Trim();
}
