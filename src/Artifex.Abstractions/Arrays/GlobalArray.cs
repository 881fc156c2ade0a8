using System.Collections.Immutable;
using System.Numerics.Tensors;

namespace Artifex;

/// <summary>
/// An array laid out over devices by a <see cref="Sharding"/>: the counterpart of a committed <c>jax.Array</c>.
/// </summary>
/// <remarks>
/// A global array owns the device buffers of its shards and frees them when disposed. The non-generic base
/// lets one tree hold arrays of different element types.
/// </remarks>
public abstract class GlobalArray : IDisposable
{
    private int _disposed;

    private protected GlobalArray(ImmutableArray<long> shape, Sharding sharding, ImmutableArray<Shard> shards, DeviceProvider provider)
    {
        Shape = shape;
        Sharding = sharding;
        Shards = shards;
        Provider = provider;
        long length = 1;
        foreach (long dimension in shape)
        {
            length *= dimension;
        }

        Length = length;
    }

    /// <summary>Gets the global shape; empty for a scalar.</summary>
    public ImmutableArray<long> Shape { get; }

    /// <summary>Gets the number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>Gets the number of elements of the global array.</summary>
    public long Length { get; }

    /// <summary>Gets the element type.</summary>
    public abstract Type ElementType { get; }

    /// <summary>Gets the sharding.</summary>
    public Sharding Sharding { get; }

    /// <summary>Gets the shards, one per device, in the sharding's device order (JAX <c>addressable_shards</c>).</summary>
    public ImmutableArray<Shard> Shards { get; }

    /// <summary>Gets the provider that owns the shards' memory.</summary>
    public DeviceProvider Provider { get; }

    /// <summary>
    /// Gets a value indicating whether this process holds every shard of the array (JAX <c>is_fully_addressable</c>):
    /// always on a single-process provider; on a multi-process one, when the sharding's devices are all this process's.
    /// Only then can the array be gathered to the host here.
    /// </summary>
    public bool IsFullyAddressable => Shards.Length == Sharding.Devices.Length;

    /// <summary>Gets a value indicating whether the array has been disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Places a tensor on devices (JAX <c>device_put</c>).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="tensor">The host tensor; it is not changed.</param>
    /// <param name="sharding">The sharding; its devices must belong to one provider.</param>
    /// <param name="path">The tree path named in error messages.</param>
    /// <returns>A new global array. The caller owns it and must dispose it.</returns>
    /// <exception cref="ArgumentException">The rank or a dimension does not fit the sharding (JAX's texts plus the path), or the devices have no provider.</exception>
    public static GlobalArray<T> DevicePut<T>(Tensor<T> tensor, Sharding sharding, TreePath path = default)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return DevicePut(HostArray<T>.FromTensor(tensor), sharding, path);
    }

    /// <summary>Places a host array on devices (JAX <c>device_put</c>).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="array">The host array; it is not changed.</param>
    /// <param name="sharding">The sharding; its devices must belong to one provider.</param>
    /// <param name="path">The tree path named in error messages.</param>
    /// <returns>A new global array. The caller owns it and must dispose it.</returns>
    /// <exception cref="ArgumentException">The rank or a dimension does not fit the sharding (JAX's texts plus the path), or the devices have no provider.</exception>
    public static GlobalArray<T> DevicePut<T>(HostArray<T> array, Sharding sharding, TreePath path = default)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(array);
        return (GlobalArray<T>)array.PlaceUntyped(sharding, path);
    }

    /// <summary>Places a host array of any element type on devices (JAX <c>device_put</c>).</summary>
    /// <param name="array">The host array; it is not changed.</param>
    /// <param name="sharding">The sharding; its devices must belong to one provider.</param>
    /// <param name="path">The tree path named in error messages.</param>
    /// <returns>A new global array. The caller owns it and must dispose it.</returns>
    /// <exception cref="ArgumentException">The rank or a dimension does not fit the sharding (JAX's texts plus the path), or the devices have no provider.</exception>
    public static GlobalArray DevicePut(HostArray array, Sharding sharding, TreePath path = default)
    {
        ArgumentNullException.ThrowIfNull(array);
        return array.PlaceUntyped(sharding, path);
    }

    /// <summary>
    /// Wraps per-device buffers that already hold the shards of an array (e.g. the outputs of an SPMD region).
    /// The new array takes ownership of the buffers.
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="shape">The global shape.</param>
    /// <param name="sharding">The sharding.</param>
    /// <param name="buffers">
    /// One buffer per device of <paramref name="sharding"/> that this process can address, in the sharding's device order,
    /// each holding its block row-major: every device on a single-process provider; on a multi-process provider, this
    /// process's devices (JAX <c>make_array_from_single_device_arrays</c>: each process passes its own blocks).
    /// </param>
    /// <returns>The global array. The caller owns it and must dispose it.</returns>
    /// <exception cref="ArgumentException">The shape does not fit the sharding, or a buffer is on the wrong device, has the wrong element type or length.</exception>
    public static GlobalArray<T> FromDeviceBuffers<T>(ReadOnlySpan<long> shape, Sharding sharding, IReadOnlyList<DeviceBuffer> buffers)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(sharding);
        ArgumentNullException.ThrowIfNull(buffers);
        DeviceProvider provider = GlobalArray<T>.ResolveProvider(sharding);
        ShardPlacement[] placements = [.. sharding.GetShardPlacements(shape).Where(p => provider.IsAddressable(p.Device))];
        if (buffers.Count != placements.Length)
        {
            string which = placements.Length == sharding.Devices.Length ? "devices" : $"devices addressable from process {provider.ProcessIndex}";
            throw new ArgumentException($"The sharding has {placements.Length} {which}, but {buffers.Count} buffers were given.", nameof(buffers));
        }

        var shards = ImmutableArray.CreateBuilder<Shard>(placements.Length);
        for (int i = 0; i < placements.Length; i++)
        {
            DeviceBuffer buffer = buffers[i];
            ShardPlacement placement = placements[i];
            long length = GlobalArray<T>.ElementCount(placement);
            if (buffer is null || buffer.IsDisposed || buffer.Device != placement.Device || buffer.ElementType != typeof(T) || buffer.Length != length)
            {
                throw new ArgumentException(
                    $"Buffer {i} must be a live {typeof(T).Name}[{length}] buffer on {placement.Device}, but is {buffer?.ToString() ?? "null"}.",
                    nameof(buffers));
            }

            shards.Add(new Shard(placement, buffer));
        }

        return new GlobalArray<T>([.. shape], sharding, shards.MoveToImmutable(), provider);
    }

    /// <summary>Gets the shard held by a device.</summary>
    /// <param name="device">The device.</param>
    /// <returns>The shard.</returns>
    /// <exception cref="ArgumentException">The device holds no shard of this array.</exception>
    public Shard GetShard(Device device) => Shards[IndexOfShard(device)];

    /// <summary>Gets this array with its element type known at compile time (no copy).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <returns>This array, typed.</returns>
    /// <exception cref="InvalidCastException">The array holds another element type (both are named).</exception>
    public GlobalArray<T> As<T>()
        where T : unmanaged =>
        this as GlobalArray<T> ?? throw new InvalidCastException($"{this} holds {ElementType.Name} elements, not {typeof(T).Name}.");

    /// <summary>
    /// Gets a device's block of the array as a device array of the shard's shape: what a region body computes on (JAX's
    /// local block in <c>shard_map</c>). A view: it shares the shard's memory, and disposing it frees nothing.
    /// </summary>
    /// <param name="device">A device holding a shard, usually <see cref="SpmdContext.Device"/>.</param>
    /// <returns>The block.</returns>
    /// <exception cref="ArgumentException">The device holds no shard of this array.</exception>
    /// <exception cref="ObjectDisposedException">The array has been disposed.</exception>
    public DeviceArray GetLocalBlock(Device device)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        int index = IndexOfShard(device);
        return ShardView(index, Shards[index].Shape);
    }

    /// <summary>Finds the position in <see cref="Shards"/> of a device's shard.</summary>
    /// <exception cref="ArgumentException">The device holds no shard here (not in the sharding, or another process's device).</exception>
    internal int IndexOfShard(Device device)
    {
        for (int i = 0; i < Shards.Length; i++)
        {
            if (Shards[i].Device == device)
            {
                return i;
            }
        }

        string where = Provider.IsAddressable(device) ? string.Empty : $" in process {Provider.ProcessIndex} (it belongs to process {device.ProcessIndex})";
        throw new ArgumentException($"Device {device} holds no shard of this array{where}.", nameof(device));
    }

    /// <summary>Gathers the array to host memory.</summary>
    /// <returns>A new host array holding the global value.</returns>
    /// <exception cref="ObjectDisposedException">The array has been disposed.</exception>
    public abstract HostArray ToHostArray();

    internal abstract DeviceArray ShardView(int shardIndex, long[] shape);

    /// <summary>Frees the shards' device buffers. Calling it more than once has no effect.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            foreach (Shard shard in Shards)
            {
                shard.Buffer.Dispose();
            }
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Returns e.g. <c>GlobalArray&lt;Single&gt;(8, 3) NamedSharding(...)</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"GlobalArray<{ElementType.Name}>{Python.Shape(Shape.AsSpan())} {Sharding}";

    private protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);
}
