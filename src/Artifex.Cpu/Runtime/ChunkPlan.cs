using System.Runtime.InteropServices;

namespace Artifex.Cpu.Runtime;

/// <summary>How a range of elements is cut into chunks that threads claim: the one chunk size of the CPU collectives.</summary>
[StructLayout(LayoutKind.Auto)]
internal readonly struct ChunkPlan
{
    /// <summary>Bytes per chunk: large enough to amortize the claim, small enough to balance two cores.</summary>
    public const int ChunkBytes = 32 * 1024;

    public ChunkPlan(long length, int elementSize)
    {
        Length = length;
        ChunkElements = Math.Max(1, ChunkBytes / elementSize);
        Chunks = checked((int)((length + ChunkElements - 1) / ChunkElements));
    }

    /// <summary>Gets the element count.</summary>
    public long Length { get; }

    /// <summary>Gets the elements per chunk (at least 1, even for elements larger than a chunk).</summary>
    public long ChunkElements { get; }

    /// <summary>Gets the chunk count.</summary>
    public int Chunks { get; }

    /// <summary>Gets the element range of chunks [first, end).</summary>
    public (long Start, long Count) Range(int first, int end)
    {
        long start = first * ChunkElements;
        return (start, Math.Min(end * ChunkElements, Length) - start);
    }
}
