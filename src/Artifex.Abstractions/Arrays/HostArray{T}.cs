using System.Collections.Immutable;
using System.Numerics.Tensors;

namespace Artifex;

/// <summary>A dense, row-major host array of <typeparamref name="T"/>.</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class HostArray<T> : HostArray
    where T : unmanaged
{
    private readonly T[] _data;

    /// <summary>Wraps a flat row-major array without copying it.</summary>
    /// <param name="data">The elements.</param>
    /// <param name="shape">The shape; its product must equal the length of <paramref name="data"/>. Empty means a scalar.</param>
    /// <exception cref="ArgumentException">The shape has a negative dimension or does not match the data length.</exception>
    public HostArray(T[] data, params long[] shape)
        : base(ValidateShape(shape))
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.LongLength != Length)
        {
            throw new ArgumentException($"A shape of {Python.Shape(shape)} needs {Length} elements, but {data.Length} were given.", nameof(data));
        }

        _data = data;
    }

    /// <inheritdoc/>
    public override Type ElementType => typeof(T);

    /// <summary>Gets the elements in row-major order (shared, not copied).</summary>
    public Span<T> Span => _data;

    /// <summary>Gets the value of a scalar.</summary>
    /// <exception cref="InvalidOperationException">The array is not rank 0.</exception>
    public T ScalarValue => Rank == 0 ? _data[0] : throw new InvalidOperationException($"The array has shape {Python.Shape(Shape.AsSpan())}, not ().");

    /// <summary>Returns a tensor over the same memory.</summary>
    /// <returns>The tensor.</returns>
    /// <exception cref="InvalidOperationException">The array is a scalar (tensors have rank ≥ 1).</exception>
    public Tensor<T> AsTensor()
    {
        if (Rank == 0)
        {
            throw new InvalidOperationException("A rank-0 host array has no Tensor<T> form; read ScalarValue instead.");
        }

        nint[] lengths = [.. Shape.Select(static d => checked((nint)d))];
        return Tensor.Create(_data, lengths);
    }

    internal static HostArray<T> FromTensor(Tensor<T> tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var data = new T[tensor.FlattenedLength];
        tensor.FlattenTo(data);
        long[] shape = new long[tensor.Rank];
        for (int d = 0; d < shape.Length; d++)
        {
            shape[d] = tensor.Lengths[d];
        }

        return new HostArray<T>(data, shape);
    }

    /// <inheritdoc/>
    public override HostArray Slice(long index)
    {
        if (Rank == 0)
        {
            throw new InvalidOperationException("A scalar has no rows to slice.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Shape[0]);
        long row = Length / Shape[0];
        return new HostArray<T>(_data.AsSpan(checked((int)(index * row)), checked((int)row)).ToArray(), [.. Shape[1..]]);
    }

    internal override GlobalArray PlaceUntyped(Sharding sharding, TreePath path) => GlobalArray<T>.Place(_data, Shape, sharding, path);

    private static ImmutableArray<long> ValidateShape(long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        foreach (long dimension in shape)
        {
            if (dimension < 0)
            {
                throw new ArgumentException($"Array dimensions must be non-negative, but the shape is {Python.Shape(shape)}.", nameof(shape));
            }
        }

        return [.. shape];
    }
}
