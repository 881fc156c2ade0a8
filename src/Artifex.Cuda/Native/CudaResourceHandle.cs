using System.Runtime.InteropServices;

namespace Artifex.Cuda.Native;

/// <summary>
/// One native resource of a device (stream, event, cuBLAS handle, module, device memory, NCCL communicator). Releasing
/// makes the device's context current first, because the releasing thread (the finalizer's, a worker's) may have none.
/// </summary>
internal sealed class CudaResourceHandle : SafeHandle
{
    private readonly PrimaryContextHandle _context;
    private readonly bool _contextReferenced;

    public CudaResourceHandle(CudaResourceKind kind, nint value, PrimaryContextHandle context)
        : base(0, ownsHandle: true)
    {
        Kind = kind;
        _context = context;
        context.DangerousAddRef(ref _contextReferenced);
        SetHandle(value);
    }

    public CudaResourceKind Kind { get; }

    /// <summary>Gets or sets a value indicating whether an NCCL communicator saw an error, so it must be aborted rather than finalized.</summary>
    public bool Faulted { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether an NCCL communicator was finalized (or aborted) together with its peers, which
    /// leaves its destruction local. An unfinalized communicator is never destroyed here: destruction would wait for the
    /// peers (possibly forever, possibly on the finalizer thread), so it is left to the process's exit.
    /// </summary>
    public bool Finalized { get; set; }

    public override bool IsInvalid => handle == 0;

    public nint Value => handle;

    protected override bool ReleaseHandle()
    {
        _ = CuDriver.cuCtxSetCurrent(_context.DangerousGetHandle());
        _ = Kind switch
        {
            CudaResourceKind.Stream => (int)CuDriver.cuStreamDestroy_v2(handle),
            CudaResourceKind.Event => (int)CuDriver.cuEventDestroy_v2(handle),
            CudaResourceKind.Blas => (int)Cublas.cublasDestroy_v2(handle),
            CudaResourceKind.Module => (int)CuDriver.cuModuleUnload(handle),
            CudaResourceKind.Memory => (int)CuDriver.cuMemFree_v2((ulong)handle),
            _ => Finalized ? (int)Nccl.ncclCommDestroy(handle) : 0,
        };
        if (_contextReferenced)
        {
            _context.DangerousRelease();
        }

        return true;
    }
}
