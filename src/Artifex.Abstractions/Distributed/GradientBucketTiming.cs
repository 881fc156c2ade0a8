using System.Runtime.InteropServices;

namespace Artifex.Distributed;

/// <summary>When one bucket's all-reduce of the last step started and finished, as <see cref="System.Diagnostics.Stopwatch"/> timestamps (for a timeline).</summary>
/// <param name="Bucket">The bucket, in launch order.</param>
/// <param name="Bytes">The bytes it sent (after compression).</param>
/// <param name="Started">When it was started (all its gradients ready).</param>
/// <param name="Finished">When the collective had finished on the communication thread.</param>
[StructLayout(LayoutKind.Auto)]
public readonly record struct GradientBucketTiming(int Bucket, long Bytes, long Started, long Finished);
