namespace Artifex.Mpi.Interop;

/// <summary>
/// The predefined handles and constants of one MPI implementation's binary interface.
/// </summary>
/// <remarks>
/// The values differ between implementations even where the C source is the same: OpenMPI's handles are the addresses of
/// exported globals and its <c>MPI_IN_PLACE</c> is <c>(void*)1</c>; MPICH's handles are 32-bit integers and its
/// <c>MPI_IN_PLACE</c> is <c>(void*)-1</c>; the MPI-5 standard ABI (<c>libmpi_abi</c>) has small pointer-sized constants and
/// <c>MPI_THREAD_MULTIPLE</c> = 7. Everything implementation-specific that a call passes goes through this table;
/// <see cref="OpenMpiAbi"/> is the only implementation so far.
/// </remarks>
internal interface IMpiAbi
{
    /// <summary>Gets the implementation's name, for messages.</summary>
    string Name { get; }

    /// <summary>Gets <c>MPI_COMM_WORLD</c>.</summary>
    nint CommWorld { get; }

    /// <summary>Gets <c>MPI_COMM_SELF</c>.</summary>
    nint CommSelf { get; }

    /// <summary>Gets <c>MPI_COMM_NULL</c>, what a split returns to a process that is not a member.</summary>
    nint CommNull { get; }

    /// <summary>Gets <c>MPI_INFO_NULL</c>.</summary>
    nint InfoNull { get; }

    /// <summary>Gets <c>MPI_BYTE</c>: opaque bytes, valid for data movement but for no arithmetic reduction.</summary>
    nint Byte { get; }

    /// <summary>Gets <c>MPI_UINT8_T</c>: unsigned 8-bit integers, valid for <c>MPI_SUM</c>, <c>MPI_MAX</c> and <c>MPI_MIN</c>.</summary>
    nint UInt8 { get; }

    /// <summary>Gets <c>MPI_INT</c> (32 bits on every platform .NET runs on).</summary>
    nint Int32 { get; }

    /// <summary>Gets <c>MPI_INT64_T</c>, the exact match of <see cref="long"/> (<c>MPI_LONG</c> is 32 bits on LLP64 platforms).</summary>
    nint Int64 { get; }

    /// <summary>Gets <c>MPI_FLOAT</c>.</summary>
    nint Float32 { get; }

    /// <summary>Gets <c>MPI_DOUBLE</c>.</summary>
    nint Float64 { get; }

    /// <summary>Gets <c>MPI_SUM</c>.</summary>
    nint OpSum { get; }

    /// <summary>Gets <c>MPI_MAX</c>.</summary>
    nint OpMax { get; }

    /// <summary>Gets <c>MPI_MIN</c>.</summary>
    nint OpMin { get; }

    /// <summary>Gets <c>MPI_ERRORS_RETURN</c>.</summary>
    nint ErrorsReturn { get; }

    /// <summary>Gets <c>MPI_IN_PLACE</c>, the sentinel send buffer of an in-place collective.</summary>
    nint InPlace { get; }

    /// <summary>Gets <c>MPI_UNDEFINED</c>, the split colour of a process that joins no communicator.</summary>
    int Undefined { get; }

    /// <summary>Gets <c>MPI_COMM_TYPE_SHARED</c>, the split type of the processes that can share memory (one node).</summary>
    int CommTypeShared { get; }

    /// <summary>Gets <c>MPI_THREAD_SINGLE</c>.</summary>
    int ThreadSingle { get; }

    /// <summary>Gets <c>MPI_THREAD_FUNNELED</c>.</summary>
    int ThreadFunneled { get; }

    /// <summary>Gets <c>MPI_THREAD_SERIALIZED</c>.</summary>
    int ThreadSerialized { get; }

    /// <summary>Gets <c>MPI_THREAD_MULTIPLE</c>.</summary>
    int ThreadMultiple { get; }

    /// <summary>Gets <c>MPI_MAX_ERROR_STRING</c>, the buffer size <c>MPI_Error_string</c> needs.</summary>
    int MaxErrorString { get; }

    /// <summary>Gets <c>MPI_MAX_LIBRARY_VERSION_STRING</c>, the buffer size <c>MPI_Get_library_version</c> needs.</summary>
    int MaxLibraryVersionString { get; }
}
