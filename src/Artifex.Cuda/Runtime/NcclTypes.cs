using Artifex.Cuda.Native;

namespace Artifex.Cuda.Runtime;

/// <summary>Maps .NET element types and reduce ops onto NCCL's.</summary>
internal static class NcclTypes
{
    public static bool TryGetDataType(Type elementType, out NcclDataType type)
    {
        NcclDataType? found = elementType == typeof(float) ? NcclDataType.Float32
            : elementType == typeof(double) ? NcclDataType.Float64
            : elementType == typeof(Half) ? NcclDataType.Float16
            : elementType == typeof(int) ? NcclDataType.Int32
            : elementType == typeof(long) ? NcclDataType.Int64
            : elementType == typeof(uint) ? NcclDataType.UInt32
            : elementType == typeof(ulong) ? NcclDataType.UInt64
            : elementType == typeof(sbyte) ? NcclDataType.Int8
            : elementType == typeof(byte) ? NcclDataType.UInt8
            : null;
        type = found.GetValueOrDefault();
        return found.HasValue;
    }

    /// <summary>Gets why a reduction of this type cannot run, or <see langword="null"/>.</summary>
    public static string? GetUnsupportedReason(Type elementType) =>
        TryGetDataType(elementType, out _) ? null : $"The CUDA collectives reduce Single, Double, Half and integer elements, not {elementType.Name}.";

    /// <summary>NCCL's op for a reduction; a mean is a sum that the provider then divides by the group size, as the CPU provider does.</summary>
    public static NcclRedOp ToNccl(ReduceOp op) => op switch
    {
        ReduceOp.Max => NcclRedOp.Max,
        ReduceOp.Min => NcclRedOp.Min,
        _ => NcclRedOp.Sum,
    };
}
