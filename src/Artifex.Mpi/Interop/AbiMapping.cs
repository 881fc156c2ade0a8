namespace Artifex.Mpi.Interop;

/// <summary>Maps Artifex's element types and reductions to one implementation's handles.</summary>
internal static class AbiMapping
{
    /// <summary>The datatype handle of an element type (<see cref="MpiElementType.Byte"/> is <c>MPI_UINT8_T</c>, so it reduces).</summary>
    public static nint DataType(this IMpiAbi abi, MpiElementType type) => type switch
    {
        MpiElementType.Single => abi.Float32,
        MpiElementType.Double => abi.Float64,
        MpiElementType.Int32 => abi.Int32,
        MpiElementType.Int64 => abi.Int64,
        MpiElementType.Byte => abi.UInt8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not an MPI element type."),
    };

    /// <summary>The operation handle of a reduction; <see cref="ReduceOp.Mean"/> has none (the caller sums and divides).</summary>
    public static nint Op(this IMpiAbi abi, ReduceOp op) => op switch
    {
        ReduceOp.Sum => abi.OpSum,
        ReduceOp.Max => abi.OpMax,
        ReduceOp.Min => abi.OpMin,
        ReduceOp.Mean => throw new ArgumentException("ReduceOp.Mean is not an MPI operation: reduce with ReduceOp.Sum and divide by the participant count.", nameof(op)),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "Not a reduction."),
    };
}
