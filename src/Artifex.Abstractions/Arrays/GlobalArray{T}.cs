using System.Buffers;
using System.Collections.Immutable;
using System.Numerics.Tensors;

namespace Artifex;

/// <summary>A global array of <typeparamref name="T"/> laid out over devices.</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class GlobalArray<T> : GlobalArray
    where T : unmanaged
{
    internal GlobalArray(ImmutableArray<long> shape, Sharding sharding, ImmutableArray<Shard> shards, DeviceProvider provider)
        : base(shape, sharding, shards, provider)
    {
    }

    /// <inheritdoc/>
    public override Type ElementType => typeof(T);

    /// <summary>Gathers the array to a host tensor.</summary>
    /// <returns>A new tensor holding the global value.</returns>
    /// <exception cref="ObjectDisposedException">The array has been disposed.</exception>
    /// <exception cref="InvalidOperationException">The array is a scalar (use <see cref="ToHostArray"/>).</exception>
    public Tensor<T> ToHost()
    {
        if (Rank == 0)
        {
            throw new InvalidOperationException("A rank-0 global array has no Tensor<T> form; use ToHostArray().ScalarValue or ToArray().");
        }

        return ((HostArray<T>)ToHostArray()).AsTensor();
    }

    /// <summary>Gathers the array to a flat row-major host array.</summary>
    /// <returns>The elements.</returns>
    /// <exception cref="ObjectDisposedException">The array has been disposed.</exception>
    public T[] ToArray()
    {
        ThrowIfDisposed();
        var data = new T[Length];
        T[]? scratch = null;
        try
        {
            // Each block is read once, from whichever addressable replica holds it; on a multi-process provider a block
            // that only other processes hold makes the array not fully addressable here.
            var copied = new List<ImmutableArray<DimensionSlice>>(Shards.Length);
            long covered = 0;
            foreach (Shard shard in Shards)
            {
                if (copied.Exists(index => index.SequenceEqual(shard.Index)))
                {
                    continue;
                }

                copied.Add(shard.Index);
                covered += shard.Buffer.Length;
                if (BlockCopy.IsWhole(Shape.AsSpan(), shard.Index))
                {
                    Provider.CopyToHost<T>(shard.Buffer, 0, data);
                    continue;
                }

                int count = checked((int)shard.Buffer.Length);
                if (scratch is null || scratch.Length < count)
                {
                    if (scratch is not null)
                    {
                        ArrayPool<T>.Shared.Return(scratch);
                    }

                    scratch = ArrayPool<T>.Shared.Rent(count);
                }

                Provider.CopyToHost(shard.Buffer, 0, scratch.AsSpan(0, count));
                BlockCopy.Scatter<T>(scratch.AsSpan(0, count), Shape.AsSpan(), shard.Index, data);
            }

            if (covered != Length)
            {
                throw new InvalidOperationException(
                    $"{this} is not fully addressable from process {Provider.ProcessIndex}: other processes hold part of it. Gather it inside an SPMD region (all_gather), or read the shards this process holds.");
            }
        }
        finally
        {
            if (scratch is not null)
            {
                ArrayPool<T>.Shared.Return(scratch);
            }
        }

        return data;
    }

    /// <summary>Copies one device's shard to the host.</summary>
    /// <param name="device">The device.</param>
    /// <returns>The shard's elements, row-major in the shard's shape.</returns>
    /// <exception cref="ArgumentException">The device holds no shard.</exception>
    /// <exception cref="ObjectDisposedException">The array has been disposed.</exception>
    public T[] GetShardData(Device device)
    {
        ThrowIfDisposed();
        Shard shard = GetShard(device);
        var data = new T[shard.Buffer.Length];
        Provider.CopyToHost<T>(shard.Buffer, 0, data);
        return data;
    }

    /// <summary>Gets a device's block of the array, typed; see <see cref="GlobalArray.GetLocalBlock(Device)"/>.</summary>
    /// <param name="device">A device holding a shard.</param>
    /// <returns>The block (a view of the shard's memory).</returns>
    /// <exception cref="ArgumentException">The device holds no shard of this array.</exception>
    public new DeviceArray<T> GetLocalBlock(Device device) => (DeviceArray<T>)base.GetLocalBlock(device);

    /// <inheritdoc/>
    public override HostArray ToHostArray() => new HostArray<T>(ToArray(), [.. Shape]);

    internal override DeviceArray ShardView(int shardIndex, long[] shape) => DeviceArray.View<T>(Shards[shardIndex].Buffer, shape);

    internal static GlobalArray<T> Place(T[] data, ImmutableArray<long> shape, Sharding sharding, TreePath path)
    {
        ArgumentNullException.ThrowIfNull(sharding);
        sharding.Validate(shape.AsSpan(), path);
        DeviceProvider provider = ResolveProvider(sharding);
        IReadOnlyList<ShardPlacement> placements = sharding.GetShardPlacements(shape.AsSpan());
        ShardPlacement[] addressable = [.. placements.Where(p => provider.IsAddressable(p.Device))];
        var buffers = new List<DeviceBuffer>(addressable.Length);
        T[]? scratch = null;
        try
        {
            // Only this process's devices hold memory: on a multi-process provider each process places its own shards of
            // the same global value (JAX's multi-controller model).
            foreach (ShardPlacement placement in addressable)
            {
                DeviceBuffer buffer = provider.Allocate<T>(placement.Device, ElementCount(placement));
                buffers.Add(buffer);
                Upload(provider, data, shape, placement, buffer, ref scratch);
            }

            var shards = ImmutableArray.CreateBuilder<Shard>(addressable.Length);
            for (int i = 0; i < addressable.Length; i++)
            {
                shards.Add(new Shard(addressable[i], buffers[i]));
            }

            return new GlobalArray<T>(shape, sharding, shards.MoveToImmutable(), provider);
        }
        catch
        {
            // Nothing placed survives a failed placement.
            foreach (DeviceBuffer buffer in buffers)
            {
                buffer.Dispose();
            }

            throw;
        }
        finally
        {
            if (scratch is not null)
            {
                ArrayPool<T>.Shared.Return(scratch);
            }
        }
    }

    private static void Upload(DeviceProvider provider, T[] data, ImmutableArray<long> shape, ShardPlacement placement, DeviceBuffer buffer, ref T[]? scratch)
    {
        if (BlockCopy.IsWhole(shape.AsSpan(), placement.Index))
        {
            provider.CopyFromHost<T>(data, buffer);
            return;
        }

        int count = checked((int)buffer.Length);
        if (scratch is null || scratch.Length < count)
        {
            if (scratch is not null)
            {
                ArrayPool<T>.Shared.Return(scratch);
            }

            scratch = ArrayPool<T>.Shared.Rent(count);
        }

        BlockCopy.Gather<T>(data, shape.AsSpan(), placement.Index, scratch.AsSpan(0, count));
        provider.CopyFromHost<T>(scratch.AsSpan(0, count), buffer);
    }

    internal static long ElementCount(ShardPlacement placement)
    {
        long count = 1;
        foreach (DimensionSlice slice in placement.Index)
        {
            count *= slice.Length;
        }

        return count;
    }

    internal static DeviceProvider ResolveProvider(Sharding sharding)
    {
        DeviceProvider? provider = sharding.Devices[0].Provider;
        foreach (Device device in sharding.Devices)
        {
            if (device.Provider is null)
            {
                throw new ArgumentException($"Device {device} of {sharding} belongs to no provider, so nothing can be placed on it.", nameof(sharding));
            }

            if (!ReferenceEquals(device.Provider, provider))
            {
                throw new ArgumentException($"The devices of {sharding} belong to more than one provider.", nameof(sharding));
            }
        }

        return provider!;
    }
}
