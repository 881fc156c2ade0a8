using System.Collections.Immutable;
using System.Numerics.Tensors;

namespace Artifex;

/// <summary>
/// A dense, row-major array in host memory of any supported element type; the leaf type of host trees.
/// </summary>
/// <remarks>
/// The non-generic base lets one tree hold leaves of different element types (float inputs beside int
/// labels) without casts and without <see cref="object"/>. Unlike <see cref="Tensor{T}"/>, a host array can
/// have rank 0 (a scalar such as a step counter).
/// </remarks>
public abstract class HostArray
{
    private protected HostArray(ImmutableArray<long> shape)
    {
        Shape = shape;
        long length = 1;
        foreach (long dimension in shape)
        {
            length = checked(length * dimension);
        }

        Length = length;
    }

    /// <summary>Gets the shape; empty for a scalar.</summary>
    public ImmutableArray<long> Shape { get; }

    /// <summary>Gets the number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>Gets the number of elements.</summary>
    public long Length { get; }

    /// <summary>Gets the element type.</summary>
    public abstract Type ElementType { get; }

    /// <summary>Copies a tensor into a new host array.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="tensor">The tensor (dense or strided).</param>
    /// <returns>The host array, typed as the base class like every <c>From</c> (see <see cref="From{T}(T[], long[])"/>).</returns>
    public static HostArray From<T>(Tensor<T> tensor)
        where T : unmanaged => HostArray<T>.FromTensor(tensor);

    /// <summary>Wraps a flat row-major array without copying it.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="data">The elements; the array is shared, not copied.</param>
    /// <param name="shape">The shape; its product must equal the length of <paramref name="data"/>.</param>
    /// <returns>
    /// The host array, typed as the base class on purpose: <c>Tree.Dict(("inputs", HostArray.From(floats, 8, 3)),
    /// ("labels", HostArray.From(ints, 8)))</c> infers one leaf type, which two different <see cref="HostArray{T}"/>
    /// types would not give. For the typed array write <c>new HostArray&lt;T&gt;(data, shape)</c>, or call
    /// <see cref="As{T}"/>.
    /// </returns>
    /// <exception cref="ArgumentException">The shape has a negative dimension or does not match the data length.</exception>
    public static HostArray From<T>(T[] data, params long[] shape)
        where T : unmanaged => new HostArray<T>(data, shape);

    /// <summary>Creates a rank-0 host array.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="value">The value.</param>
    /// <returns>The scalar.</returns>
    public static HostArray Scalar<T>(T value)
        where T : unmanaged => new HostArray<T>([value], []);

    /// <summary>Returns the typed view of this array.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <returns>This array as <see cref="HostArray{T}"/>.</returns>
    /// <exception cref="InvalidCastException">The element type is not <typeparamref name="T"/>.</exception>
    public HostArray<T> As<T>()
        where T : unmanaged =>
        this as HostArray<T> ?? throw new InvalidCastException($"This host array holds {ElementType.Name} elements, not {typeof(T).Name}.");

    /// <summary>Returns e.g. <c>HostArray&lt;Single&gt;(4, 2)</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"HostArray<{ElementType.Name}>{Python.Shape(Shape.AsSpan())}";

    /// <summary>Copies row <paramref name="index"/> along dimension 0 into a new array of rank one less.</summary>
    /// <param name="index">The row.</param>
    /// <returns>The slice.</returns>
    /// <exception cref="InvalidOperationException">The array is a scalar.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    public abstract HostArray Slice(long index);

    internal abstract GlobalArray PlaceUntyped(Sharding sharding, TreePath path);
}
