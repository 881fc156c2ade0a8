namespace Artifex.Mpi;

/// <summary>The element types the MPI collectives move and reduce.</summary>
/// <remarks>
/// The public <see cref="MpiCommunicator"/> collectives take the matching CLR <see cref="System.Type"/>:
/// <see cref="float"/>, <see cref="double"/>, <see cref="int"/>, <see cref="long"/> or <see cref="byte"/>.
/// </remarks>
internal enum MpiElementType
{
    /// <summary><see cref="float"/>, <c>MPI_FLOAT</c>.</summary>
    Single = 0,

    /// <summary><see cref="double"/>, <c>MPI_DOUBLE</c>.</summary>
    Double = 1,

    /// <summary><see cref="int"/>, <c>MPI_INT</c>.</summary>
    Int32 = 2,

    /// <summary><see cref="long"/>, <c>MPI_INT64_T</c>.</summary>
    Int64 = 3,

    /// <summary><see cref="byte"/>, <c>MPI_UINT8_T</c> (unsigned, so sums wrap modulo 256).</summary>
    Byte = 4,
}
