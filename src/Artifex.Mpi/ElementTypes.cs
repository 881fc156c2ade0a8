namespace Artifex.Mpi;

/// <summary>Sizes of <see cref="MpiElementType"/> values and their mapping from CLR types.</summary>
internal static class ElementTypes
{
    /// <summary>The size of one element in bytes.</summary>
    public static int SizeOf(MpiElementType type) => type switch
    {
        MpiElementType.Single or MpiElementType.Int32 => 4,
        MpiElementType.Double or MpiElementType.Int64 => 8,
        MpiElementType.Byte => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not an MPI element type."),
    };

    /// <summary>The element type of a CLR type: float, double, int, long or byte.</summary>
    public static MpiElementType FromType(Type type, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(type, parameterName);
        return type == typeof(float) ? MpiElementType.Single
            : type == typeof(double) ? MpiElementType.Double
            : type == typeof(int) ? MpiElementType.Int32
            : type == typeof(long) ? MpiElementType.Int64
            : type == typeof(byte) ? MpiElementType.Byte
            : throw new ArgumentException($"The MPI collectives move float, double, int, long and byte elements, not {type.Name}.", parameterName);
    }
}
