using System.Collections.Immutable;

namespace Artifex;

/// <summary>An array of <typeparamref name="T"/> on one device.</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class DeviceArray<T> : DeviceArray
    where T : unmanaged
{
    internal DeviceArray(DeviceBuffer buffer, ImmutableArray<long> shape, bool ownsBuffer)
        : base(buffer, shape, ownsBuffer)
    {
    }

    /// <summary>Copies the elements to a new host array, row-major.</summary>
    /// <returns>The elements.</returns>
    /// <exception cref="ObjectDisposedException">The array has been disposed.</exception>
    public T[] ToArray()
    {
        ThrowIfDisposed();
        var data = new T[Length];
        Buffer.Provider.CopyToHost<T>(Buffer, 0, data);
        return data;
    }

    /// <summary>Overwrites the elements from host memory.</summary>
    /// <param name="values">Exactly <see cref="DeviceArray.Length"/> elements, row-major.</param>
    /// <exception cref="ArgumentException">The count differs from the array's length.</exception>
    public void CopyFrom(ReadOnlySpan<T> values)
    {
        ThrowIfDisposed();
        if (values.Length != Length)
        {
            throw new ArgumentException($"{this} holds {Length} elements, but {values.Length} were given.", nameof(values));
        }

        Buffer.Provider.CopyFromHost(values, Buffer);
    }

    /// <inheritdoc/>
    public override HostArray ToHostArray() => new HostArray<T>(ToArray(), [.. Shape]);

    /// <inheritdoc/>
    public override DeviceArray AllocateLike(params long[] shape) => Allocate<T>(Device, shape);

    /// <inheritdoc/>
    public override DeviceArray Reshape(params long[] shape)
    {
        ThrowIfDisposed();
        return View<T>(Buffer, shape);
    }

    internal override DeviceArray WithBuffer(DeviceBuffer buffer, ImmutableArray<long> shape) => new DeviceArray<T>(buffer, shape, ownsBuffer: true);

    internal override GlobalArray WrapAsGlobal(ReadOnlySpan<long> globalShape, Sharding sharding, IReadOnlyList<DeviceBuffer> buffers) =>
        GlobalArray.FromDeviceBuffers<T>(globalShape, sharding, buffers);
}
