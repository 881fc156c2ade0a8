namespace Artifex.Distributed;

/// <summary>The choices of a <see cref="GradientReducer"/> (<see cref="DataParallel.CreateGradientReducer"/>).</summary>
public sealed record GradientReducerOptions
{
    /// <summary>
    /// Gets the size of the first bucket, as PyTorch DDP's: 1 MiB. The first bucket holds the last layers, whose gradients
    /// the backward pass produces first; a small one starts communicating early.
    /// </summary>
    public const long DefaultFirstBucketSizeBytes = 1024L * 1024;

    /// <summary>Gets the largest bucket in bytes (default <see cref="DataParallel.DefaultBucketSizeBytes"/>, 25 MiB); 0 gives every leaf a bucket of its own.</summary>
    public long BucketSizeBytes { get; init; } = DataParallel.DefaultBucketSizeBytes;

    /// <summary>Gets the largest first bucket in bytes (default <see cref="DefaultFirstBucketSizeBytes"/>), capped by <see cref="BucketSizeBytes"/>.</summary>
    public long FirstBucketSizeBytes { get; init; } = DefaultFirstBucketSizeBytes;

    /// <summary>Gets the reduction: <see cref="ReduceOp.Mean"/> (default) or <see cref="ReduceOp.Sum"/>.</summary>
    public ReduceOp ReduceType { get; init; } = ReduceOp.Mean;

    /// <summary>Gets how gradients travel (default <see cref="GradientCompression.None"/>).</summary>
    public GradientCompression Compression { get; init; }

    /// <summary>
    /// Gets whether the reducer allocates the buckets and hands out the gradients as views into them (PyTorch DDP's
    /// <c>gradient_as_bucket_view</c>): the backward pass writes straight into the buckets, so nothing is copied in or out.
    /// The arrays passed to <see cref="DataParallel.CreateGradientReducer"/> then only give the shapes; use
    /// <see cref="GradientReducer.Gradients"/>.
    /// </summary>
    public bool GradientsAsBucketViews { get; init; }
}
