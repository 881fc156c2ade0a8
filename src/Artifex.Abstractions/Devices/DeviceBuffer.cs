namespace Artifex;

/// <summary>
/// A block of memory on one device, holding <see cref="Length"/> elements of <see cref="ElementType"/>.
/// </summary>
/// <remarks>
/// Device memory is not assumed to be host-addressable: data moves in and out only through the copy
/// methods of <see cref="DeviceProvider"/>. A buffer is owned by whoever allocated it and must be
/// disposed; a provider frees the buffers that are still live when it is disposed. A buffer made by
/// <see cref="DeviceProvider.WrapExternal{T}"/> is a view of memory someone else owns (<see cref="IsExternal"/>):
/// disposing it frees nothing.
/// </remarks>
public abstract class DeviceBuffer : IDisposable
{
    private int _disposed;
    private int _uses;
    private Func<bool>? _ownerAlive;

    /// <summary>Initializes the common state of a buffer. Called by providers only.</summary>
    /// <param name="provider">The provider that allocated the buffer.</param>
    /// <param name="device">The device the memory lives on.</param>
    /// <param name="elementType">The element type.</param>
    /// <param name="elementSize">The size of one element in bytes.</param>
    /// <param name="length">The number of elements.</param>
    protected DeviceBuffer(DeviceProvider provider, Device device, Type elementType, int elementSize, long length)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(elementType);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(elementSize);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Provider = provider;
        Device = device;
        ElementType = elementType;
        ElementSize = elementSize;
        Length = length;
    }

    /// <summary>
    /// Reports a buffer that was never disposed to its provider, which counts it (<see cref="DeviceProvider.LeakedBufferCount"/>),
    /// logs it and frees its memory later on an ordinary thread. A disposed buffer is never finalized.
    /// </summary>
#pragma warning disable MA0055 // The finalizer is the point: it makes a leaked buffer visible when it is collected, not at shutdown.
    ~DeviceBuffer()
#pragma warning restore MA0055
    {
        if (MarkDisposed())
        {
            Provider.ReleaseLeaked(this);
        }
    }

    /// <summary>Gets the provider that allocated this buffer.</summary>
    public DeviceProvider Provider { get; }

    /// <summary>Gets the device that holds the memory.</summary>
    public Device Device { get; }

    /// <summary>Gets the element type.</summary>
    public Type ElementType { get; }

    /// <summary>Gets the size of one element in bytes.</summary>
    public int ElementSize { get; }

    /// <summary>Gets the number of elements.</summary>
    public long Length { get; }

    /// <summary>Gets the provider's id of the buffer (its key among the live buffers).</summary>
    internal long Id { get; set; }

    /// <summary>Gets where the buffer was allocated, when <see cref="DeviceProvider.TraceLeaksVariable"/> is set.</summary>
    internal string? AllocationSite { get; set; }

    /// <summary>Gets the size of the buffer in bytes.</summary>
    public long SizeInBytes => Length * ElementSize;

    /// <summary>
    /// Gets a value indicating whether the buffer is a view of memory it does not own (made by
    /// <see cref="DeviceProvider.WrapExternal{T}"/>): disposing it frees nothing, and it holds no bytes of its provider's.
    /// </summary>
    public bool IsExternal { get; private set; }

    /// <summary>
    /// Gets a value indicating whether the buffer has been disposed (by its owner or by its provider), or, for an external
    /// buffer, whether the owner of its memory says the memory is gone.
    /// </summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0 || (_ownerAlive is { } alive && !alive());

    /// <summary>Gets the bytes of its provider's memory the buffer holds: none for an external buffer.</summary>
    internal long OwnedBytes => IsExternal ? 0 : SizeInBytes;

    /// <summary>Frees the memory. Calling it more than once has no effect.</summary>
    /// <remarks>
    /// A buffer that a running collective uses (disposed by another thread meanwhile) is freed when that collective ends,
    /// so its memory cannot be handed to a new buffer that the collective would then overwrite.
    /// </remarks>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && Volatile.Read(ref _uses) == 0)
        {
            Provider.Release(this);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Marks the buffer in use by an operation that must finish before its memory is freed.</summary>
    /// <exception cref="ObjectDisposedException">The buffer is already disposed.</exception>
    internal void AcquireUse()
    {
        Interlocked.Increment(ref _uses);
        if (IsDisposed)
        {
            ReleaseUse();
            throw new ObjectDisposedException(ToString(), Volatile.Read(ref _disposed) != 0
                ? $"{this} was disposed before the collective that uses it."
                : $"{this} is a view of memory whose owner released it before the collective that uses it.");
        }
    }

    /// <summary>Ends a use; the last use of a buffer disposed meanwhile frees it (the provider frees a buffer once).</summary>
    internal void ReleaseUse()
    {
        if (Interlocked.Decrement(ref _uses) == 0 && IsDisposed)
        {
            Provider.Release(this);
        }
    }

    /// <summary>Frees the native memory. Called exactly once, by the owning provider.</summary>
    protected internal abstract void Free();

    internal bool MarkDisposed() => Interlocked.Exchange(ref _disposed, 1) == 0;

    /// <summary>Marks the buffer as a view of memory owned elsewhere, whose owner reports through <paramref name="ownerAlive"/> whether it still exists.</summary>
    internal void MarkExternal(Func<bool>? ownerAlive)
    {
        IsExternal = true;
        _ownerAlive = ownerAlive;
    }

    /// <summary>Returns a short description, e.g. <c>DeviceBuffer(cpu:1, Single[1024])</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"DeviceBuffer({Device}, {ElementType.Name}[{Length}])";
}
