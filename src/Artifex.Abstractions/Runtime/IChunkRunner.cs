namespace Artifex.Runtime;

/// <summary>Runs a part's chunks; a struct so that the part loop is specialized and allocates nothing.</summary>
public interface IChunkRunner
{
    /// <summary>
    /// Runs chunks <paramref name="first"/> to <paramref name="endExclusive"/> (exclusive). Chunks that are contiguous in the
    /// buffers run as one kernel call: a call per 32 KiB chunk cost a few percent of a DRAM-sized all-reduce.
    /// </summary>
    void RunChunks(int first, int endExclusive);
}
