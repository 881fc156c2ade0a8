using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Artifex.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Artifex;

/// <summary>
/// The provider contract: a provider enumerates its devices, allocates buffers on them and copies data
/// host↔device and device↔device. Collectives and kernels are added by later contracts.
/// </summary>
/// <remarks>
/// Public members validate their arguments and then call a protected <c>...Core</c> member, so no
/// provider can skip validation (ILGPU's template-method shape). Every buffer a provider allocates is
/// counted until it is disposed: <see cref="LiveBufferCount"/> lets tests prove that nothing leaked, and
/// <see cref="Dispose()"/> frees whatever is still live.
/// </remarks>
public abstract partial class DeviceProvider : IDisposable
{
    private static DeviceProvider? s_default;

    /// <summary>
    /// The environment variable that makes every allocation record where it was made, so that a buffer the garbage collector
    /// finds undisposed is logged with its allocation's stack (off by default: a stack per allocation is slow).
    /// </summary>
    public const string TraceLeaksVariable = "ARTIFEX_TRACE_LEAKS";

    private static readonly bool s_traceLeaks = string.Equals(Environment.GetEnvironmentVariable(TraceLeaksVariable), "1", StringComparison.Ordinal);

    /// <summary>Live buffers by id, held weakly: a buffer nobody references any more is a leak its finalizer reports.</summary>
    private readonly ConcurrentDictionary<long, WeakReference<DeviceBuffer>> _liveBuffers = new();
    private readonly ConcurrentQueue<DeviceBuffer> _leaked = new();
    private long _nextBufferId;
    private long _liveBytes;
    private long _leakedBuffers;
    private int _disposed;

    /// <summary>Initializes a provider for a platform.</summary>
    /// <param name="platform">The platform name, e.g. <c>"cpu"</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="platform"/> is null or empty.</exception>
    protected DeviceProvider(string platform)
    {
        ArgumentException.ThrowIfNullOrEmpty(platform);
        Platform = platform;
    }

    /// <summary>
    /// Gets or sets the process-wide default provider, used where JAX would use <c>jax.devices()</c>
    /// (for example the parameterless <c>DeviceMeshManager</c> constructor). <see langword="null"/> until set.
    /// </summary>
    /// <remarks>Disposing the default provider resets this property to <see langword="null"/>.</remarks>
    public static DeviceProvider? Default
    {
        get => Volatile.Read(ref s_default);
        set => Volatile.Write(ref s_default, value);
    }

    /// <summary>Gets or sets the logger (provider start, collective timeouts and aborts, buffers freed at disposal). A no-op logger by default.</summary>
    protected ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>Gets the platform name of the devices this provider owns.</summary>
    public string Platform { get; }

    /// <summary>Gets the devices of this provider, in id order: on a multi-process provider, every process's devices (JAX <c>jax.devices()</c>).</summary>
    public abstract IReadOnlyList<Device> Devices { get; }

    /// <summary>Gets the index of this process among the processes the provider spans (JAX <c>process_index</c>); 0 for a single-process provider.</summary>
    public virtual int ProcessIndex => 0;

    /// <summary>Gets the number of processes the provider spans (JAX <c>process_count</c>); 1 for a single-process provider.</summary>
    public virtual int ProcessCount => 1;

    /// <summary>Gets the devices this process can address, the ones that hold its memory (JAX <c>local_devices</c>).</summary>
    public IReadOnlyList<Device> LocalDevices => ProcessCount == 1 ? Devices : [.. Devices.Where(IsAddressable)];

    /// <summary>
    /// Gets why reductions over axis groups that span processes cannot reduce <paramref name="elementType"/>, or
    /// <see langword="null"/> when they can (always, in a single-process provider): what a feature that picks the element
    /// type itself, such as Half gradient compression, checks before it starts.
    /// </summary>
    /// <param name="elementType">The element type.</param>
    /// <returns>The reason, or <see langword="null"/>.</returns>
    public virtual string? GetCrossProcessReductionUnsupportedReason(Type elementType) => null;

    /// <summary>Gets whether this process can address <paramref name="device"/>: allocate on it, copy to and from it, run its SPMD participant.</summary>
    /// <param name="device">A device.</param>
    /// <returns><see langword="true"/> when the device belongs to this process.</returns>
    public bool IsAddressable(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.ProcessIndex == ProcessIndex;
    }

    /// <summary>Gets the number of buffers allocated and not yet disposed (nor found leaked by the garbage collector).</summary>
    public int LiveBufferCount => _liveBuffers.Count;

    /// <summary>Gets the number of bytes held by live buffers.</summary>
    public long LiveBytes => Volatile.Read(ref _liveBytes);

    /// <summary>
    /// Gets the number of buffers that were never disposed: the garbage collector found them unreferenced, each was logged
    /// as a warning (with where it was allocated when <see cref="TraceLeaksVariable"/> is 1), and its memory is freed on
    /// the provider's next allocation or disposal. A correct program keeps this at 0; tests can assert it.
    /// </summary>
    public long LeakedBufferCount => Volatile.Read(ref _leakedBuffers);

    /// <summary>Gets a value indicating whether the provider has been disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Allocates an uninitialized buffer of <paramref name="length"/> elements on <paramref name="device"/>.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="device">A device of this provider.</param>
    /// <param name="length">The number of elements; 0 is allowed.</param>
    /// <returns>A new buffer. The caller owns it and must dispose it.</returns>
    /// <exception cref="ObjectDisposedException">The provider has been disposed.</exception>
    /// <exception cref="ArgumentException"><paramref name="device"/> does not belong to this provider.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative, or its size in bytes does not fit in a <see cref="long"/>.</exception>
    public DeviceBuffer Allocate<T>(Device device, long length)
        where T : unmanaged
    {
        int elementSize = ValidateNewBuffer<T>(device, length);
        FreeLeaked();
        return Register(AllocateCore(device, typeof(T), elementSize, length));
    }

    /// <summary>
    /// Wraps memory that something else owns as a buffer of this provider, without copying: a view of a framework's tensor
    /// storage, so that collectives and kernels work on it in place. Disposing the buffer frees nothing.
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="device">A device of this process; the memory must be that device's (host memory for CPU devices, device memory of that GPU in the provider's context for CUDA).</param>
    /// <param name="address">The address of the first element.</param>
    /// <param name="length">The number of elements the memory holds from <paramref name="address"/>.</param>
    /// <param name="ownerAlive">
    /// Tells whether the memory still exists (e.g. "the tensor is not disposed"); once it returns <see langword="false"/>,
    /// the buffer reads as disposed and every use throws <see cref="ObjectDisposedException"/> instead of touching freed
    /// memory. Without it, the caller keeps the memory alive until the buffer is disposed.
    /// </param>
    /// <returns>A new buffer with <see cref="DeviceBuffer.IsExternal"/> set. The caller must dispose it (which frees nothing); it does not count in <see cref="LiveBytes"/>.</returns>
    /// <exception cref="ObjectDisposedException">The provider has been disposed.</exception>
    /// <exception cref="ArgumentException"><paramref name="device"/> does not belong to this provider or to this process, or <paramref name="address"/> is null while <paramref name="length"/> is not 0.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative, or its size in bytes does not fit in a <see cref="long"/>.</exception>
    /// <exception cref="NotSupportedException">The provider cannot address memory it did not allocate.</exception>
    public DeviceBuffer WrapExternal<T>(Device device, nint address, long length, Func<bool>? ownerAlive = null)
        where T : unmanaged
    {
        int elementSize = ValidateNewBuffer<T>(device, length);
        if (address == 0 && length != 0)
        {
            throw new ArgumentException($"A null address cannot hold {length} elements of {typeof(T).Name}.", nameof(address));
        }

        DeviceBuffer buffer = WrapExternalCore(device, typeof(T), elementSize, length, address);
        buffer.MarkExternal(ownerAlive);
        return Register(buffer);
    }

    /// <summary>
    /// Makes a buffer over elements [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) of
    /// another, without copying: how gradients live inside a flat bucket that a single collective reduces (PyTorch DDP's
    /// <c>gradient_as_bucket_view</c>). Disposing the view frees nothing; once <paramref name="buffer"/> is disposed, the
    /// view reads as disposed and every use throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    /// <param name="buffer">A live buffer of this provider; it must outlive the work done on the view.</param>
    /// <param name="offset">The first element.</param>
    /// <param name="length">The number of elements.</param>
    /// <returns>A new buffer with <see cref="DeviceBuffer.IsExternal"/> set; the caller disposes it. It does not count in <see cref="LiveBytes"/>.</returns>
    /// <exception cref="ObjectDisposedException">The provider or <paramref name="buffer"/> has been disposed.</exception>
    /// <exception cref="ArgumentException"><paramref name="buffer"/> belongs to another provider, or the range does not fit in it.</exception>
    /// <exception cref="NotSupportedException">The provider cannot address part of a buffer.</exception>
    public DeviceBuffer Slice(DeviceBuffer buffer, long offset, long length)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ValidateBuffer(buffer, buffer.ElementType, offset, length, nameof(buffer));
        nint address = GetAddress(buffer) + checked((nint)(offset * buffer.ElementSize));
        DeviceBuffer view = WrapExternalCore(buffer.Device, buffer.ElementType, buffer.ElementSize, length, address);
        view.MarkExternal(() => !buffer.IsDisposed);
        return Register(view);
    }

    /// <summary>Copies host elements into a device buffer.</summary>
    /// <typeparam name="T">The element type; must equal the buffer's element type.</typeparam>
    /// <param name="source">The host elements.</param>
    /// <param name="destination">A live buffer of this provider.</param>
    /// <param name="destinationOffset">The first destination element.</param>
    /// <exception cref="ObjectDisposedException">The provider or the buffer has been disposed.</exception>
    /// <exception cref="ArgumentException">The buffer belongs to another provider, has another element type, or is too short.</exception>
    public void CopyFromHost<T>(ReadOnlySpan<T> source, DeviceBuffer destination, long destinationOffset = 0)
        where T : unmanaged
    {
        ValidateBuffer<T>(destination, destinationOffset, source.Length, nameof(destination));
        CopyFromHostCore(MemoryMarshal.AsBytes(source), destination, destinationOffset * destination.ElementSize);
    }

    /// <summary>Copies elements of a device buffer to host memory.</summary>
    /// <typeparam name="T">The element type; must equal the buffer's element type.</typeparam>
    /// <param name="source">A live buffer of this provider.</param>
    /// <param name="sourceOffset">The first source element.</param>
    /// <param name="destination">The host destination; its length is the element count.</param>
    /// <exception cref="ObjectDisposedException">The provider or the buffer has been disposed.</exception>
    /// <exception cref="ArgumentException">The buffer belongs to another provider, has another element type, or is too short.</exception>
    public void CopyToHost<T>(DeviceBuffer source, long sourceOffset, Span<T> destination)
        where T : unmanaged
    {
        ValidateBuffer<T>(source, sourceOffset, destination.Length, nameof(source));
        CopyToHostCore(source, sourceOffset * source.ElementSize, MemoryMarshal.AsBytes(destination));
    }

    /// <summary>Copies elements between two buffers of this provider, on the same or different devices.</summary>
    /// <param name="source">The source buffer.</param>
    /// <param name="sourceOffset">The first source element.</param>
    /// <param name="destination">The destination buffer; same element type as <paramref name="source"/>.</param>
    /// <param name="destinationOffset">The first destination element.</param>
    /// <param name="count">The number of elements.</param>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    /// <exception cref="ArgumentException">A buffer belongs to another provider, the element types differ, or a range is out of bounds.</exception>
    public void Copy(DeviceBuffer source, long sourceOffset, DeviceBuffer destination, long destinationOffset, long count)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ValidateBuffer(source, source.ElementType, sourceOffset, count, nameof(source));
        ValidateBuffer(destination, source.ElementType, destinationOffset, count, nameof(destination));
        long size = source.ElementSize;
        CopyCore(source, sourceOffset * size, destination, destinationOffset * size, count * size);
    }

    /// <summary>
    /// Lets a provider that was never disposed stop its threads when it is collected (<see cref="Dispose(bool)"/> with
    /// <see langword="false"/>); its native memory is not freed from here.
    /// </summary>
#pragma warning disable MA0055 // An undisposed provider must not keep its worker threads for the life of the process.
    ~DeviceProvider() => Dispose(disposing: false);
#pragma warning restore MA0055

    /// <summary>Frees every buffer still live and releases the provider's resources.</summary>
    /// <remarks>Running regions are canceled first, and disposal waits until they have returned.</remarks>
    /// <exception cref="InvalidOperationException">Called from a participant of one of this provider's regions, which disposal would wait for.</exception>
    public void Dispose()
    {
        if (SpmdContext.Current is SpmdParticipant { IsOnItsThread: true } context && ReferenceEquals(context.Device.Provider, this))
        {
            throw new InvalidOperationException($"The {Platform} provider cannot be disposed from inside one of its own SPMD regions (device {context.Device}): disposal waits for the region to return.");
        }

        StopOperations();
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the provider. Derived classes call the base after releasing their own resources.</summary>
    /// <param name="disposing"><see langword="true"/> from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (disposing)
        {
            FreeLeaked();
            int leaked = 0;
            long bytes = 0;
            foreach (WeakReference<DeviceBuffer> reference in _liveBuffers.Values)
            {
                if (reference.TryGetTarget(out DeviceBuffer? buffer) && buffer.MarkDisposed())
                {
                    leaked++;
                    bytes += buffer.OwnedBytes;
                    Release(buffer);
                }
            }

            if (leaked > 0)
            {
                ProviderLog.FreedLiveBuffers(Logger, Platform, leaked, bytes);
            }

            _lifetime.Dispose();
        }

        Interlocked.CompareExchange(ref s_default, null, this);
    }

    /// <summary>Creates a device owned by this provider.</summary>
    /// <param name="id">The device id.</param>
    /// <param name="kind">The device kind.</param>
    /// <param name="processIndex">The process index.</param>
    /// <returns>The device.</returns>
    protected Device CreateDevice(int id, string kind, int processIndex = 0) => new(id, Platform, kind, processIndex, this);

    /// <summary>Wraps memory the provider did not allocate (see <see cref="WrapExternal{T}"/>). Arguments are already validated.</summary>
    /// <param name="device">The device, of this process.</param>
    /// <param name="elementType">The element type.</param>
    /// <param name="elementSize">The element size in bytes.</param>
    /// <param name="length">The element count.</param>
    /// <param name="address">The first element's address.</param>
    /// <returns>A buffer whose <c>Free</c> frees nothing.</returns>
    /// <exception cref="NotSupportedException">Always, unless overridden.</exception>
    protected virtual DeviceBuffer WrapExternalCore(Device device, Type elementType, int elementSize, long length, nint address) =>
        throw new NotSupportedException($"The {Platform} provider cannot wrap memory it did not allocate.");

    /// <summary>Gets the address of a buffer's first element, in the space <see cref="WrapExternalCore"/> takes (for <see cref="Slice"/>).</summary>
    /// <param name="buffer">A live buffer of this provider.</param>
    /// <returns>The address.</returns>
    /// <exception cref="NotSupportedException">Always, unless overridden.</exception>
    protected virtual nint GetAddress(DeviceBuffer buffer) =>
        throw new NotSupportedException($"The {Platform} provider cannot make views of part of a buffer.");

    /// <summary>Allocates an uninitialized buffer. Arguments are already validated.</summary>
    /// <param name="device">A device of this provider.</param>
    /// <param name="elementType">The element type.</param>
    /// <param name="elementSize">The element size in bytes.</param>
    /// <param name="length">The element count (≥ 0).</param>
    /// <returns>The buffer.</returns>
    protected abstract DeviceBuffer AllocateCore(Device device, Type elementType, int elementSize, long length);

    /// <summary>Copies bytes from the host. Arguments are already validated.</summary>
    /// <param name="source">The bytes.</param>
    /// <param name="destination">The destination buffer.</param>
    /// <param name="destinationByteOffset">The byte offset in the destination.</param>
    protected abstract void CopyFromHostCore(ReadOnlySpan<byte> source, DeviceBuffer destination, long destinationByteOffset);

    /// <summary>Copies bytes to the host. Arguments are already validated.</summary>
    /// <param name="source">The source buffer.</param>
    /// <param name="sourceByteOffset">The byte offset in the source.</param>
    /// <param name="destination">The host bytes to fill.</param>
    protected abstract void CopyToHostCore(DeviceBuffer source, long sourceByteOffset, Span<byte> destination);

    /// <summary>Copies bytes between buffers of this provider. Arguments are already validated.</summary>
    /// <param name="source">The source buffer.</param>
    /// <param name="sourceByteOffset">The source byte offset.</param>
    /// <param name="destination">The destination buffer.</param>
    /// <param name="destinationByteOffset">The destination byte offset.</param>
    /// <param name="byteCount">The number of bytes.</param>
    protected abstract void CopyCore(DeviceBuffer source, long sourceByteOffset, DeviceBuffer destination, long destinationByteOffset, long byteCount);

    /// <summary>Throws when a device does not belong to this provider.</summary>
    /// <param name="device">The device.</param>
    /// <param name="paramName">The parameter name for the exception.</param>
    /// <exception cref="ArgumentException">The device belongs to another provider.</exception>
    protected void ThrowIfForeign(Device device, string paramName)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (!ReferenceEquals(device.Provider, this))
        {
            throw new ArgumentException($"Device {device} does not belong to this {Platform} provider.", paramName);
        }
    }

    internal void Release(DeviceBuffer buffer)
    {
        if (_liveBuffers.TryRemove(buffer.Id, out _))
        {
            Interlocked.Add(ref _liveBytes, -buffer.OwnedBytes);
            buffer.Free();
        }
    }

    /// <summary>
    /// Called by the finalizer of a buffer that was never disposed: counts and logs it at once, and queues its memory to be
    /// freed on an ordinary thread (a provider's free may need its own thread or context, never the finalizer's).
    /// </summary>
    internal void ReleaseLeaked(DeviceBuffer buffer)
    {
        if (_liveBuffers.TryRemove(buffer.Id, out _))
        {
            Interlocked.Add(ref _liveBytes, -buffer.OwnedBytes);
            Interlocked.Increment(ref _leakedBuffers);
            ProviderLog.BufferLeaked(Logger, buffer.ToString(), buffer.AllocationSite ?? $"set {TraceLeaksVariable}=1 to log where leaked buffers were allocated");
            _leaked.Enqueue(buffer);
        }
    }

    /// <summary>The checks of a new buffer, allocated or wrapped, before anything is allocated.</summary>
    /// <returns>The element size in bytes.</returns>
    private int ValidateNewBuffer<T>(Device device, long length)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        int elementSize = Unsafe.SizeOf<T>();
        if (length > long.MaxValue / elementSize)
        {
            // Every byte offset and bounds check of the contract is Length × ElementSize: it must not wrap.
            throw new ArgumentOutOfRangeException(nameof(length), length, $"{length} elements of {typeof(T).Name} ({elementSize} bytes each) are more bytes than a buffer can address.");
        }

        ThrowIfForeign(device, nameof(device));
        if (!IsAddressable(device))
        {
            throw new ArgumentException($"Device {device} belongs to process {device.ProcessIndex}; process {ProcessIndex} cannot hold or address memory on it.", nameof(device));
        }

        return elementSize;
    }

    /// <summary>Counts a new buffer among the live ones (and its bytes, unless external) and gives it its id.</summary>
    private DeviceBuffer Register(DeviceBuffer buffer)
    {
        buffer.Id = Interlocked.Increment(ref _nextBufferId);
        buffer.AllocationSite = s_traceLeaks ? new System.Diagnostics.StackTrace(2, fNeedFileInfo: true).ToString() : null;
        _liveBuffers.TryAdd(buffer.Id, new WeakReference<DeviceBuffer>(buffer));
        Interlocked.Add(ref _liveBytes, buffer.OwnedBytes);
        return buffer;
    }

    private void FreeLeaked()
    {
        while (_leaked.TryDequeue(out DeviceBuffer? buffer))
        {
            buffer.Free();
        }
    }

    private void ValidateBuffer<T>(DeviceBuffer buffer, long offset, long count, string paramName)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(buffer, paramName);
        ValidateBuffer(buffer, typeof(T), offset, count, paramName);
    }

    private void ValidateBuffer(DeviceBuffer buffer, Type elementType, long offset, long count, string paramName)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ObjectDisposedException.ThrowIf(buffer.IsDisposed, buffer);
        if (!ReferenceEquals(buffer.Provider, this))
        {
            throw new ArgumentException($"{buffer} was allocated by another provider.", paramName);
        }

        if (buffer.ElementType != elementType)
        {
            throw new ArgumentException($"{buffer} holds {buffer.ElementType.Name} elements, not {elementType.Name}.", paramName);
        }

        if (offset < 0 || offset > buffer.Length || count > buffer.Length - offset)
        {
            throw new ArgumentException($"The range [{offset}, {offset + count}) is outside {buffer}.", paramName);
        }
    }
}
