using System.Collections.Immutable;

namespace Artifex.Distributed;

/// <summary>How a <see cref="GradientReducer"/> checks its gradients and packs them into buckets.</summary>
internal static class GradientLayout
{
    /// <summary>Checks every leaf before anything is allocated; returns the device they share.</summary>
    public static Device Validate(ImmutableArray<KeyValuePair<TreePath, DeviceArray>> leaves, GradientReducerOptions options)
    {
        if (options.ReduceType is not (ReduceOp.Mean or ReduceOp.Sum))
        {
            throw new ArgumentException(DataParallel.UnsupportedReduceType(options.ReduceType.ToString()), nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(options.BucketSizeBytes, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(options.FirstBucketSizeBytes, nameof(options));
        if (options.Compression is not (GradientCompression.None or GradientCompression.Half))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Compression, "Undefined gradient compression.");
        }

        if (leaves.IsEmpty)
        {
            throw new ArgumentException("A gradient reducer needs at least one gradient.", nameof(leaves));
        }

        Device device = leaves[0].Value.Device;
        if (options.Compression == GradientCompression.Half && device.Provider?.GetCrossProcessReductionUnsupportedReason(typeof(Half)) is { } reason)
        {
            throw new NotSupportedException($"Half gradient compression over {device.Provider.Platform} devices in {device.Provider.ProcessCount} processes: {reason}");
        }

        foreach ((TreePath path, DeviceArray leaf) in leaves)
        {
            ObjectDisposedException.ThrowIf(leaf.IsDisposed, leaf);
            if (leaf.Device != device)
            {
                throw new ArgumentException($"Gradient '{path}' is on {leaf.Device}, but '{leaves[0].Key}' is on {device}: a reducer serves one device's gradients.", nameof(leaves));
            }

            if (options.Compression == GradientCompression.Half && leaf.ElementType != typeof(float))
            {
                throw new ArgumentException($"Gradient '{path}' holds {leaf.ElementType.Name}; Half compression sends Single gradients only.", nameof(leaves));
            }
        }

        return device;
    }

    /// <summary>
    /// Buckets in reverse leaf order: a new bucket when the element type changes or the next leaf would overflow the cap
    /// (the first bucket's is smaller, as DDP's); a leaf larger than the cap gets a bucket of its own.
    /// </summary>
    public static (int[] LeafBucket, int[][] BucketLeaves) Plan(ImmutableArray<KeyValuePair<TreePath, DeviceArray>> leaves, GradientReducerOptions options)
    {
        var leafBucket = new int[leaves.Length];
        var buckets = new List<int[]>();
        var current = new List<int>();
        long bytes = 0;
        for (int i = leaves.Length - 1; i >= 0; i--)
        {
            DeviceArray leaf = leaves[i].Value;
            long cap = buckets.Count == 0 ? Math.Min(options.FirstBucketSizeBytes, options.BucketSizeBytes) : options.BucketSizeBytes;
            bool fits = current.Count > 0 && leaf.ElementType == leaves[current[0]].Value.ElementType && bytes + leaf.Buffer.SizeInBytes <= cap;
            if (current.Count > 0 && !fits)
            {
                buckets.Add([.. current]);
                current.Clear();
                bytes = 0;
            }

            leafBucket[i] = buckets.Count;
            current.Add(i);
            bytes += leaf.Buffer.SizeInBytes;
        }

        buckets.Add([.. current]);
        return (leafBucket, [.. buckets]);
    }

    /// <summary>Allocates a bucket's flat buffer, the views of its slots and, with compression, its Half buffer.</summary>
    public static GradientBucket Allocate(int index, int[] bucketLeaves, ImmutableArray<KeyValuePair<TreePath, DeviceArray>> leaves, GradientCompression compression)
    {
        DeviceArray first = leaves[bucketLeaves[0]].Value;
        long total = bucketLeaves.Sum(i => leaves[i].Value.Length);
        DeviceArray flat = first.AllocateLike(total);
        var slots = new List<DeviceArray>(bucketLeaves.Length);
        DeviceArray? compressed = null;
        try
        {
            long offset = 0;
            foreach (int i in bucketLeaves)
            {
                DeviceArray leaf = leaves[i].Value;
                slots.Add(leaf.WithBuffer(flat.Buffer.Provider.Slice(flat.Buffer, offset, leaf.Length), leaf.Shape));
                offset += leaf.Length;
            }

            if (compression == GradientCompression.Half)
            {
                compressed = DeviceArray.Allocate<Half>(first.Device, total);
            }

            return new GradientBucket(index, bucketLeaves, flat, [.. slots], compressed);
        }
        catch
        {
            foreach (DeviceArray slot in slots)
            {
                slot.Dispose();
            }

            compressed?.Dispose();
            flat.Dispose();
            throw;
        }
    }
}
