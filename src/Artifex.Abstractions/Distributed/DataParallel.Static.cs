namespace Artifex.Distributed;

// The static twins of the original's <c>_static</c> methods: same behaviour, on a shared default instance.
public sealed partial class DataParallel
{
    /// <summary>Static twin of <see cref="CreateDataParallelSharding"/> (artifex <c>create_data_parallel_sharding_static</c>).</summary>
    /// <param name="mesh">The mesh.</param>
    /// <param name="dataAxis">The mesh axis to split over.</param>
    /// <returns><c>NamedSharding(mesh, P(dataAxis))</c>.</returns>
    public static NamedSharding CreateDataParallelShardingStatic(Mesh mesh, string dataAxis = "data") => s_default.CreateDataParallelSharding(mesh, dataAxis);

    /// <summary>Static twin of <see cref="ShardBatch"/> (artifex <c>shard_batch_static</c>).</summary>
    /// <param name="batch">The host batch.</param>
    /// <param name="sharding">The sharding.</param>
    /// <returns>The placed batch; the caller owns its arrays.</returns>
    public static Tree<GlobalArray> ShardBatchStatic(Tree<HostArray> batch, Sharding sharding) => s_default.ShardBatch(batch, sharding);

    /// <summary>Static twin of <see cref="AllReduceGradients(Tree{DeviceArray}, ReduceOp, string)"/> (artifex <c>all_reduce_gradients_static</c>).</summary>
    /// <param name="gradients">This participant's gradients.</param>
    /// <param name="reduceType">Mean or Sum.</param>
    /// <param name="axisName">The axis to reduce over.</param>
    /// <returns>New arrays of the reduced gradients; the caller owns them.</returns>
    public static Tree<DeviceArray> AllReduceGradientsStatic(Tree<DeviceArray> gradients, ReduceOp reduceType = ReduceOp.Mean, string axisName = "batch") =>
        s_default.AllReduceGradients(gradients, reduceType, axisName);

    /// <summary>Static twin of <see cref="AllReduceGradients(Tree{DeviceArray}, string, string)"/>.</summary>
    /// <param name="gradients">This participant's gradients.</param>
    /// <param name="reduceType">Exactly <c>"mean"</c> or <c>"sum"</c>.</param>
    /// <param name="axisName">The axis to reduce over.</param>
    /// <returns>New arrays of the reduced gradients; the caller owns them.</returns>
    public static Tree<DeviceArray> AllReduceGradientsStatic(Tree<DeviceArray> gradients, string reduceType, string axisName = "batch") =>
        s_default.AllReduceGradients(gradients, reduceType, axisName);
}
