namespace Artifex.Perf;

/// <summary>The collective a run measures (one subcommand each).</summary>
internal enum CollectiveKind
{
    AllReduce,
    AllGather,
    ReduceScatter,
    Broadcast,
}
