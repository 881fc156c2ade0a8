namespace Artifex.Distributed;

// ZeRO stage 1: the optimizer whose state is sharded over the data axis, built on this helper's collectives.
public sealed partial class DataParallel
{
    /// <summary>
    /// Creates one participant's <see cref="ShardedAdam"/> (ZeRO stage 1) on this helper's collectives back-end, so a test
    /// double given to <see cref="DataParallel(ICollectives, long)"/> sees its reduce-scatter and all-gather too.
    /// </summary>
    /// <param name="parameters">The participant's replica of the parameters (Single leaves on one device); they stay the caller's.</param>
    /// <param name="rank">The participant's position along the axis its steps reduce over.</param>
    /// <param name="shardCount">The number of participants along that axis.</param>
    /// <returns>The optimizer; the caller disposes it.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shardCount"/> is below 1, or <paramref name="rank"/> is outside [0, <paramref name="shardCount"/>).</exception>
    /// <exception cref="ArgumentException">The tree has no elements, or a leaf (named by its path) is not Single, is disposed, or lies on another device.</exception>
    public ShardedAdam CreateShardedAdam(Tree<DeviceArray> parameters, int rank, int shardCount) => new(_collectives, parameters, rank, shardCount);
}
