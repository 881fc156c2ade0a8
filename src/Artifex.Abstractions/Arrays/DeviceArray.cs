using System.Collections.Immutable;

namespace Artifex;

/// <summary>
/// An array on one device: the local block a device works on inside an SPMD region (JAX's per-device value
/// under <c>shard_map</c> or <c>pmap</c>).
/// </summary>
/// <remarks>
/// A device array either owns its buffer (it frees it when disposed) or is a view of memory owned by someone
/// else, such as the shard of a global array handed to an SPMD body (disposing a view does nothing).
/// </remarks>
public abstract class DeviceArray : IDisposable
{
    private int _disposed;
    private int _ownsBuffer;

    private protected DeviceArray(DeviceBuffer buffer, ImmutableArray<long> shape, bool ownsBuffer)
    {
        Buffer = buffer;
        Shape = shape;
        _ownsBuffer = ownsBuffer ? 1 : 0;
    }

    /// <summary>Gets the device that holds the array.</summary>
    public Device Device => Buffer.Device;

    /// <summary>Gets the shape; empty for a scalar.</summary>
    public ImmutableArray<long> Shape { get; }

    /// <summary>Gets the number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>Gets the number of elements.</summary>
    public long Length => Buffer.Length;

    /// <summary>Gets the element type.</summary>
    public Type ElementType => Buffer.ElementType;

    /// <summary>Gets the buffer that holds the elements, row-major.</summary>
    public DeviceBuffer Buffer { get; }

    /// <summary>Gets a value indicating whether disposing this array frees its buffer.</summary>
    public bool OwnsBuffer => Volatile.Read(ref _ownsBuffer) != 0;

    /// <summary>Gets a value indicating whether the array has been disposed or its buffer freed.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0 || Buffer.IsDisposed;

    /// <summary>Allocates an uninitialized array on a device.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="device">The device; it must belong to a provider.</param>
    /// <param name="shape">The shape; empty for a scalar.</param>
    /// <returns>The array. The caller owns it and must dispose it.</returns>
    /// <exception cref="ArgumentException">The device has no provider, or a dimension is negative.</exception>
    public static DeviceArray<T> Allocate<T>(Device device, params long[] shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(shape);
        DeviceProvider provider = ProviderOf(device);
        long length = CheckedLength(shape, nameof(shape));
        return new DeviceArray<T>(provider.Allocate<T>(device, length), [.. shape], ownsBuffer: true);
    }

    /// <summary>Copies a host array to a device.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="device">The device; it must belong to a provider.</param>
    /// <param name="host">The host array.</param>
    /// <returns>The array. The caller owns it and must dispose it.</returns>
    public static DeviceArray<T> FromHost<T>(Device device, HostArray<T> host)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(host);
        DeviceArray<T> array = Allocate<T>(device, [.. host.Shape]);
        array.Buffer.Provider.CopyFromHost<T>(host.Span, array.Buffer);
        return array;
    }

    /// <summary>
    /// Wraps memory that something else owns (a framework tensor's storage) as a device array, without copying: collectives
    /// and kernels on the array read and write that memory in place. See <see cref="DeviceProvider.WrapExternal{T}"/>.
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="device">The device whose memory it is, of this process.</param>
    /// <param name="address">The first element's address.</param>
    /// <param name="ownerAlive">Tells whether the memory still exists; once it says no, every use throws <see cref="ObjectDisposedException"/>.</param>
    /// <param name="shape">The shape; the memory holds that many elements, row-major.</param>
    /// <returns>The array. Disposing it frees nothing of the memory; the caller must still dispose it.</returns>
    /// <exception cref="ArgumentException">The device is not this process's, or the address is null for a non-empty shape.</exception>
    /// <exception cref="NotSupportedException">The device's provider cannot wrap memory it did not allocate.</exception>
    public static DeviceArray<T> FromExternal<T>(Device device, nint address, Func<bool>? ownerAlive, params long[] shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(shape);
        long length = CheckedLength(shape, nameof(shape));
        DeviceProvider provider = ProviderOf(device);
        return new DeviceArray<T>(provider.WrapExternal<T>(device, address, length, ownerAlive), [.. shape], ownsBuffer: true);
    }

    /// <summary>Wraps memory owned elsewhere as a device array without copying (a view).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="buffer">The buffer; it must hold <typeparamref name="T"/> and exactly as many elements as the shape.</param>
    /// <param name="shape">The shape.</param>
    /// <returns>A view; disposing it does not free the buffer.</returns>
    /// <exception cref="ArgumentException">The element type or length does not match.</exception>
    public static DeviceArray<T> View<T>(DeviceBuffer buffer, params long[] shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentNullException.ThrowIfNull(shape);
        long length = CheckedLength(shape, nameof(shape));
        if (buffer.ElementType != typeof(T) || buffer.Length != length)
        {
            throw new ArgumentException($"{buffer} cannot be viewed as {typeof(T).Name}{Python.Shape(shape)}.", nameof(buffer));
        }

        return new DeviceArray<T>(buffer, [.. shape], ownsBuffer: false);
    }

    /// <summary>Gets this array with its element type known at compile time (no copy).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <returns>This array, typed.</returns>
    /// <exception cref="InvalidCastException">The array holds another element type (both are named).</exception>
    public DeviceArray<T> As<T>()
        where T : unmanaged =>
        this as DeviceArray<T> ?? throw new InvalidCastException($"{this} holds {ElementType.Name} elements, not {typeof(T).Name}.");

    /// <summary>Copies the array to a new host array.</summary>
    /// <returns>The host copy.</returns>
    public abstract HostArray ToHostArray();

    /// <summary>Allocates an uninitialized array of the same element type on the same device.</summary>
    /// <param name="shape">The shape of the new array.</param>
    /// <returns>The array. The caller owns it and must dispose it.</returns>
    public abstract DeviceArray AllocateLike(params long[] shape);

    /// <summary>Allocates an array of the same element type, shape and device, holding a copy of this array.</summary>
    /// <returns>The copy. The caller owns it and must dispose it.</returns>
    public DeviceArray Clone()
    {
        ThrowIfDisposed();
        DeviceArray copy = AllocateLike([.. Shape]);
        Buffer.Provider.Copy(Buffer, 0, copy.Buffer, 0, Length);
        return copy;
    }

    /// <summary>
    /// Returns a one-dimensional view of elements [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>)
    /// of this array, row-major, without a copy (<see cref="DeviceProvider.Slice"/>): e.g. one rank's block of an all-gather's
    /// output, for an in-place collective. Writes through the view change this array.
    /// </summary>
    /// <param name="offset">The first element.</param>
    /// <param name="length">The number of elements.</param>
    /// <returns>A view the caller disposes (which frees nothing); it reads as disposed once this array's memory is freed.</returns>
    /// <exception cref="ObjectDisposedException">This array has been disposed.</exception>
    /// <exception cref="ArgumentException">The range does not fit.</exception>
    /// <exception cref="NotSupportedException">The provider cannot make views of part of a buffer.</exception>
    public DeviceArray Slice(long offset, long length)
    {
        ThrowIfDisposed();
        return WithBuffer(Buffer.Provider.Slice(Buffer, offset, length), [length]);
    }

    /// <summary>Returns a view of the same memory with another shape of the same element count (no copy).</summary>
    /// <param name="shape">The new shape.</param>
    /// <returns>A view; disposing it does not free the buffer.</returns>
    /// <exception cref="ArgumentException">The element count differs.</exception>
    public abstract DeviceArray Reshape(params long[] shape);

    /// <summary>An array of this one's element type over another buffer, which it owns, with a shape of as many elements.</summary>
    internal abstract DeviceArray WithBuffer(DeviceBuffer buffer, ImmutableArray<long> shape);

    internal abstract GlobalArray WrapAsGlobal(ReadOnlySpan<long> globalShape, Sharding sharding, IReadOnlyList<DeviceBuffer> buffers);

    /// <summary>Gives up ownership of the buffer (it now belongs to a global array); the array stays readable as a view.</summary>
    internal bool TryDetach() => !IsDisposed && Interlocked.Exchange(ref _ownsBuffer, 0) != 0;

    /// <summary>Frees the buffer when this array owns it. Calling it more than once has no effect.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && Interlocked.Exchange(ref _ownsBuffer, 0) != 0)
        {
            Buffer.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Returns e.g. <c>DeviceArray&lt;Single&gt;(2, 3) on cpu:1</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"DeviceArray<{ElementType.Name}>{Python.Shape(Shape.AsSpan())} on {Device}";

    private static DeviceProvider ProviderOf(Device device) =>
        device.Provider ?? throw new ArgumentException($"Device {device} belongs to no provider.", nameof(device));

    internal static long CheckedLength(ReadOnlySpan<long> shape, string paramName)
    {
        long length = 1;
        foreach (long dimension in shape)
        {
            if (dimension < 0)
            {
                throw new ArgumentException($"Array dimensions must be non-negative, but the shape is {Python.Shape(shape)}.", paramName);
            }

            length = checked(length * dimension);
        }

        return length;
    }

    private protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);
}
