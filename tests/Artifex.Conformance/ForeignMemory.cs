using System.Runtime.InteropServices;

namespace Artifex.Conformance;

/// <summary>
/// Memory of a device that its provider did not allocate, as another library's tensor storage would be: by default
/// host memory from <see cref="NativeMemory"/> (what CPU devices address); a GPU suite allocates device memory instead.
/// </summary>
public class ForeignMemory : IDisposable
{
    private readonly Action<nint>? _free;

    /// <summary>Allocates <paramref name="bytes"/> of host memory.</summary>
    public unsafe ForeignMemory(long bytes)
        : this((nint)NativeMemory.AllocZeroed((nuint)Math.Max(bytes, 1)), static address => NativeMemory.Free((void*)address))
    {
    }

    /// <summary>Takes memory allocated by the caller, freed by <paramref name="free"/>.</summary>
    public ForeignMemory(nint address, Action<nint> free)
    {
        Address = address;
        _free = free;
    }

    /// <summary>Gets the first byte's address.</summary>
    public nint Address { get; private set; }

    /// <summary>Gets whether the memory still exists (what a tensor's "not disposed" would say).</summary>
    public bool IsAlive => Address != 0;

    /// <summary>Frees the memory.</summary>
    public void Dispose()
    {
        if (Address != 0)
        {
            _free?.Invoke(Address);
            Address = 0;
        }

        GC.SuppressFinalize(this);
    }
}
