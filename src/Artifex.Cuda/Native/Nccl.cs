using System.Runtime.InteropServices;

namespace Artifex.Cuda.Native;

/// <summary>The NCCL entry points (<c>libnccl.so.2</c>). Blocking communicators; every call on a device's stream.</summary>
#pragma warning disable IDE1006, CA1707, SA1300 // the C names
internal static unsafe partial class Nccl
{
    public const int SplitNoColor = -1;

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial NcclResult ncclGetVersion(int* version);

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial NcclResult ncclGetUniqueId(NcclUniqueId* id);

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial NcclResult ncclCommInitRank(nint* comm, int ranks, NcclUniqueId id, int rank);

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial NcclResult ncclCommInitAll(nint* comms, int devices, int* deviceList);

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial NcclResult ncclCommSplit(nint comm, int color, int key, nint* newComm, void* config);

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial NcclResult ncclCommFinalize(nint comm);

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial NcclResult ncclCommDestroy(nint comm);

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial NcclResult ncclCommAbort(nint comm);

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial NcclResult ncclCommGetAsyncError(nint comm, NcclResult* asyncError);

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial NcclResult ncclCommCount(nint comm, int* count);

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial NcclResult ncclCommUserRank(nint comm, int* rank);

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial byte* ncclGetErrorString(NcclResult result);

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial byte* ncclGetLastError(nint comm);

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial NcclResult ncclGroupStart();

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial NcclResult ncclGroupEnd();

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial NcclResult ncclAllReduce(ulong send, ulong receive, nuint count, NcclDataType type, NcclRedOp op, nint comm, nint stream);

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial NcclResult ncclBroadcast(ulong send, ulong receive, nuint count, NcclDataType type, int root, nint comm, nint stream);

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial NcclResult ncclAllGather(ulong send, ulong receive, nuint sendCount, NcclDataType type, nint comm, nint stream);

    [LibraryImport(CudaLibraries.NcclName)]
    public static partial NcclResult ncclReduceScatter(ulong send, ulong receive, nuint receiveCount, NcclDataType type, NcclRedOp op, nint comm, nint stream);
}
#pragma warning restore IDE1006, CA1707, SA1300
