namespace Artifex.Cpu.Runtime;

/// <summary>Runs one chunk of a round; a struct so that the part loop is specialized and allocates nothing.</summary>
internal interface IChunkRunner
{
    void RunChunk(int chunk);
}
