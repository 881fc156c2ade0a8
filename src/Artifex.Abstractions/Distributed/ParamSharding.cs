namespace Artifex.Distributed;

/// <summary>How <see cref="DataParallel.ShardModelState"/> lays out model state (artifex's <c>param_sharding</c>).</summary>
public enum ParamSharding
{
    /// <summary>Every device holds the whole of every leaf (<c>P()</c>), the default.</summary>
    Replicate = 0,

    /// <summary>Dimension 0 of every leaf is split over the mesh's first axis (<c>P(first_axis)</c>), as the original does.</summary>
    Shard = 1,
}
