using System.Runtime.InteropServices;

namespace Artifex.Cuda.Native;

/// <summary>
/// A retained primary context of one device (the context cuBLAS and NCCL use through the runtime). Every other native
/// resource of the device adds a reference to it, so the context outlives its streams, memory and handles even in
/// finalizer order.
/// </summary>
internal sealed class PrimaryContextHandle : SafeHandle
{
    public PrimaryContextHandle(nint context, int ordinal)
        : base(0, ownsHandle: true)
    {
        Ordinal = ordinal;
        SetHandle(context);
    }

    public int Ordinal { get; }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        // A failed release cannot be acted upon here (possibly the finalizer thread); the driver frees it at exit.
        _ = CuDriver.cuDevicePrimaryCtxRelease_v2(Ordinal);
        return true;
    }
}
