using System.Numerics;

namespace Artifex.Cpu.Kernels;

/// <summary>Picks the typed kernel for a runtime element type and op.</summary>
internal static class CollectiveDispatch
{
    /// <summary>Gets why the CPU collectives cannot reduce <paramref name="elementType"/>, or <see langword="null"/>.</summary>
    public static string? GetUnsupportedReason(Type elementType)
    {
        bool supported = elementType == typeof(float) || elementType == typeof(double) || elementType == typeof(Half)
            || elementType == typeof(int) || elementType == typeof(long);
        return supported ? null : $"The CPU collectives reduce Single, Double, Half, Int32 and Int64 elements, not {elementType.Name}.";
    }

    public static void Reduce(Type elementType, ReduceOp op, ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count)
    {
        if (elementType == typeof(float))
        {
            Reduce<float>(op, inputs, inOffset, outputs, outOffset, count);
        }
        else if (elementType == typeof(double))
        {
            Reduce<double>(op, inputs, inOffset, outputs, outOffset, count);
        }
        else if (elementType == typeof(int))
        {
            Reduce<int>(op, inputs, inOffset, outputs, outOffset, count);
        }
        else if (elementType == typeof(long))
        {
            Reduce<long>(op, inputs, inOffset, outputs, outOffset, count);
        }
        else if (elementType == typeof(Half) && op is ReduceOp.Sum or ReduceOp.Mean)
        {
            HalfReduction.Reduce(op == ReduceOp.Mean, inputs, inOffset, outputs, outOffset, count);
        }
        else if (elementType == typeof(Half))
        {
            Reduce<Half>(op, inputs, inOffset, outputs, outOffset, count);
        }
        else
        {
            throw new NotSupportedException(GetUnsupportedReason(elementType));
        }
    }

    private static void Reduce<T>(ReduceOp op, ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count)
        where T : unmanaged, INumber<T>
    {
        switch (op)
        {
            case ReduceOp.Sum:
                CollectiveKernels.Reduce<T, AddOperator<T>>(inputs, inOffset, outputs, outOffset, count, T.Zero);
                break;
            case ReduceOp.Mean:
                CollectiveKernels.Reduce<T, AddOperator<T>>(inputs, inOffset, outputs, outOffset, count, T.CreateChecked(inputs.Length));
                break;
            case ReduceOp.Max:
                CollectiveKernels.Reduce<T, MaxOperator<T>>(inputs, inOffset, outputs, outOffset, count, T.Zero);
                break;
            default:
                CollectiveKernels.Reduce<T, MinOperator<T>>(inputs, inOffset, outputs, outOffset, count, T.Zero);
                break;
        }
    }
}
