namespace Artifex.Cpu.Runtime;

/// <summary>The collective a participant arrived for.</summary>
internal enum CollectiveKind
{
    AllReduce = 0,
    AllGather = 1,
    ReduceScatter = 2,
    Broadcast = 3,
    Barrier = 4,
}
