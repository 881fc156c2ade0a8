using Artifex.Distributed;

namespace Artifex.TorchSharp;

/// <summary>Settings of a <see cref="TorchDataParallel{TModule}"/>.</summary>
public sealed class TorchDataParallelOptions
{
    /// <summary>
    /// Gets or sets libtorch's intra-op threads on each replica's thread; <see langword="null"/> (the default) divides the
    /// machine's cores among this process's replicas, at least one each, so that replicas running at once do not
    /// oversubscribe the cores (each replica runs on its device's thread, and libtorch's thread count is per thread).
    /// </summary>
    public int? ThreadsPerReplica { get; set; }

    /// <summary>Gets or sets the bucket size of the gradient all-reduce (as PyTorch DDP's <c>bucket_cap_mb</c>).</summary>
    public long BucketSizeBytes { get; set; } = DataParallel.DefaultBucketSizeBytes;
}
