namespace Artifex.Cpu.Runtime;

/// <summary>Runs a part's chunks; a struct so that the part loop is specialized and allocates nothing.</summary>
internal interface IChunkRunner
{
    /// <summary>
    /// Runs chunks <paramref name="first"/> to <paramref name="end"/> (exclusive). Chunks that are contiguous in the
    /// buffers run as one kernel call: a call per 32 KiB chunk cost a few percent of a DRAM-sized all-reduce.
    /// </summary>
    void RunChunks(int first, int end);
}
