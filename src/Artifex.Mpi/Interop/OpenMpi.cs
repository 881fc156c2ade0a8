using System.Runtime.InteropServices;

namespace Artifex.Mpi.Interop;

/// <summary>
/// The MPI entry points of OpenMPI 4.x (<c>libmpi.so.40</c>), under their C names.
/// </summary>
/// <remarks>
/// <para>
/// Handles (<c>MPI_Comm</c>, <c>MPI_Datatype</c>, <c>MPI_Op</c>, <c>MPI_Errhandler</c>, <c>MPI_Info</c>) are pointers in
/// OpenMPI and are passed as <see cref="nint"/>; the predefined ones come from <see cref="IMpiAbi"/>. Counts are
/// <see cref="int"/>: OpenMPI 4.1 implements MPI 3.1 and has no large-count (<c>_c</c>) variants.
/// </para>
/// <para>
/// The soname is bound, never <c>libmpi.so</c>, which only <c>libopenmpi-dev</c> installs. No entry point carries
/// <c>[SuppressGCTransition]</c>: the collectives block, and a thread blocked in MPI must not hold up the GC.
/// </para>
/// </remarks>
#pragma warning disable IDE1006, CA1707, SA1300 // the C names
internal static unsafe partial class OpenMpi
{
    /// <summary>The soname of OpenMPI 4.x and 5.x (package <c>libopenmpi3</c>, which <c>openmpi-bin</c> depends on).</summary>
    public const string LibraryName = "libmpi.so.40";

    /// <summary><c>MPI_SUCCESS</c>.</summary>
    public const int Success = 0;

    [LibraryImport(LibraryName)]
    public static partial int MPI_Init_thread(int* argc, byte*** argv, int required, int* provided);

    [LibraryImport(LibraryName)]
    public static partial int MPI_Initialized(int* flag);

    [LibraryImport(LibraryName)]
    public static partial int MPI_Finalized(int* flag);

    [LibraryImport(LibraryName)]
    public static partial int MPI_Query_thread(int* provided);

    [LibraryImport(LibraryName)]
    public static partial int MPI_Finalize();

    [LibraryImport(LibraryName)]
    public static partial int MPI_Abort(nint comm, int errorcode);

    [LibraryImport(LibraryName)]
    public static partial int MPI_Comm_rank(nint comm, int* rank);

    [LibraryImport(LibraryName)]
    public static partial int MPI_Comm_size(nint comm, int* size);

    [LibraryImport(LibraryName)]
    public static partial int MPI_Comm_split(nint comm, int color, int key, nint* newcomm);

    [LibraryImport(LibraryName)]
    public static partial int MPI_Comm_split_type(nint comm, int splitType, int key, nint info, nint* newcomm);

    [LibraryImport(LibraryName)]
    public static partial int MPI_Comm_free(nint* comm);

    [LibraryImport(LibraryName)]
    public static partial int MPI_Comm_set_errhandler(nint comm, nint errhandler);

    [LibraryImport(LibraryName)]
    public static partial int MPI_Error_string(int errorcode, byte* text, int* resultlen);

    [LibraryImport(LibraryName)]
    public static partial int MPI_Get_library_version(byte* version, int* resultlen);

    [LibraryImport(LibraryName)]
    public static partial int MPI_Allreduce(void* sendbuf, void* recvbuf, int count, nint datatype, nint op, nint comm);

    [LibraryImport(LibraryName)]
    public static partial int MPI_Allgather(void* sendbuf, int sendcount, nint sendtype, void* recvbuf, int recvcount, nint recvtype, nint comm);

    [LibraryImport(LibraryName)]
    public static partial int MPI_Reduce_scatter_block(void* sendbuf, void* recvbuf, int recvcount, nint datatype, nint op, nint comm);

    [LibraryImport(LibraryName)]
    public static partial int MPI_Bcast(void* buffer, int count, nint datatype, int root, nint comm);

    [LibraryImport(LibraryName)]
    public static partial int MPI_Barrier(nint comm);

    [LibraryImport(LibraryName)]
    public static partial double MPI_Wtime();
}
