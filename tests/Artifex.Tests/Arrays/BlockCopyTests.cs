using System.Collections.Immutable;

namespace Artifex.Tests;

public sealed class BlockCopyTests
{
    public static TheoryData<int> Seeds => [.. Enumerable.Range(0, 40)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Gather_RandomShapeAndBlock_MatchesNaiveReference(int seed)
    {
        var random = new Random(seed);
        for (int trial = 0; trial < 25; trial++)
        {
            (long[] shape, ImmutableArray<DimensionSlice> index) = RandomBlock(random, seed + trial);
            int[] global = [.. Enumerable.Range(1, checked((int)Product(shape)))];
            int[] expected = NaiveGather(global, shape, index);
            int[] block = new int[expected.Length];
            Array.Fill(block, -1);

            BlockCopy.Gather<int>(global, shape, index, block);

            Assert.Equal(expected, block);
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Scatter_RandomShapeAndBlock_WritesOnlyTheBlock(int seed)
    {
        var random = new Random(1000 + seed);
        for (int trial = 0; trial < 25; trial++)
        {
            (long[] shape, ImmutableArray<DimensionSlice> index) = RandomBlock(random, seed + trial);
            int total = checked((int)Product(shape));
            int[] block = [.. Enumerable.Range(0, checked((int)Product([.. index.Select(static s => s.Length)]))).Select(static v => -(v + 1))];
            int[] expected = [.. Enumerable.Range(1, total)];
            NaiveScatter(block, shape, index, expected);
            int[] global = [.. Enumerable.Range(1, total)];

            BlockCopy.Scatter<int>(block, shape, index, global);

            Assert.Equal(expected, global);
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void ScatterThenGather_RandomBlock_RoundTrips(int seed)
    {
        var random = new Random(2000 + seed);
        (long[] shape, ImmutableArray<DimensionSlice> index) = RandomBlock(random, seed);
        int blockLength = checked((int)Product([.. index.Select(static s => s.Length)]));
        int[] block = [.. Enumerable.Range(0, blockLength).Select(static v => (v * 7) + 3)];
        int[] global = new int[checked((int)Product(shape))];
        int[] back = new int[blockLength];

        BlockCopy.Scatter<int>(block, shape, index, global);
        BlockCopy.Gather<int>(global, shape, index, back);

        Assert.Equal(block, back);
    }

    [Fact]
    public void Gather_Scalar_CopiesTheOneElement()
    {
        int[] block = [0];

        BlockCopy.Gather<int>([42], [], [], block);

        Assert.Equal([42], block);
    }

    [Fact]
    public void Scatter_Scalar_WritesTheOneElement()
    {
        double[] global = [1.0];

        BlockCopy.Scatter<double>([2.5], [], [], global);

        Assert.Equal([2.5], global);
    }

    [Fact]
    public void Gather_MiddleColumns_PicksStridedElements()
    {
        // 3x4 row-major 0..11; rows [1, 3), columns [1, 3) are 5, 6, 9, 10.
        int[] global = [.. Enumerable.Range(0, 12)];
        int[] block = new int[4];

        BlockCopy.Gather<int>(global, [3, 4], [new DimensionSlice(1, 2), new DimensionSlice(1, 2)], block);

        Assert.Equal([5, 6, 9, 10], block);
    }

    [Theory]
    [InlineData(new long[] { 0, 4 }, new long[] { 0, 0 }, new long[] { 0, 2 })]
    [InlineData(new long[] { 2, 0, 4 }, new long[] { 0, 0, 0 }, new long[] { 2, 0, 2 })]
    [InlineData(new long[] { 3, 4 }, new long[] { 1, 1 }, new long[] { 0, 2 })]
    [InlineData(new long[] { 2, 3, 4 }, new long[] { 0, 1, 0 }, new long[] { 1, 0, 2 })]
    [InlineData(new long[] { 4, 3 }, new long[] { 0, 1 }, new long[] { 4, 0 })]
    [InlineData(new long[] { 4, 0 }, new long[] { 0, 0 }, new long[] { 2, 0 })]
    public void Gather_BlockWithAZeroLengthDimension_CopiesNothing(long[] shape, long[] starts, long[] lengths)
    {
        // E.g. a (0, 4) array placed with P("data", "model") on a 2x2 mesh: every block is [0:0, 0:2] or [0:0, 2:4].
        ImmutableArray<DimensionSlice> index = [.. starts.Zip(lengths, static (s, l) => new DimensionSlice(s, l))];
        int[] global = [.. Enumerable.Range(0, checked((int)Product(shape)))];

        Exception? ex = Record.Exception(() => BlockCopy.Gather<int>(global, shape, index, Span<int>.Empty));

        Assert.Null(ex);
    }

    [Theory]
    [InlineData(new long[] { 0, 4 }, new long[] { 0, 0 }, new long[] { 0, 2 })]
    [InlineData(new long[] { 2, 1, 4 }, new long[] { 0, 1, 0 }, new long[] { 1, 0, 2 })]
    [InlineData(new long[] { 4, 3 }, new long[] { 0, 1 }, new long[] { 4, 0 })]
    public void Scatter_BlockWithAZeroLengthDimension_WritesNothing(long[] shape, long[] starts, long[] lengths)
    {
        ImmutableArray<DimensionSlice> index = [.. starts.Zip(lengths, static (s, l) => new DimensionSlice(s, l))];
        int[] global = [.. Enumerable.Range(0, checked((int)Product(shape)))];

        Exception? ex = Record.Exception(() => BlockCopy.Scatter<int>(ReadOnlySpan<int>.Empty, shape, index, global));

        Assert.Null(ex);
        Assert.Equal([.. Enumerable.Range(0, global.Length)], global);
    }

    [Fact]
    public void IsWhole_FullAndPartialBlocks()
    {
        Assert.True(BlockCopy.IsWhole([3, 4], [new DimensionSlice(0, 3), new DimensionSlice(0, 4)]));
        Assert.True(BlockCopy.IsWhole([], []));
        Assert.False(BlockCopy.IsWhole([3, 4], [new DimensionSlice(0, 3), new DimensionSlice(0, 2)]));
        Assert.False(BlockCopy.IsWhole([3, 4], [new DimensionSlice(1, 2), new DimensionSlice(0, 4)]));
    }

    /// <summary>A random rank-0..4 shape (dimensions 1..5) and a random non-empty block inside it.</summary>
    /// <remarks>Blocks with a zero-length dimension are covered by the dedicated tests below the random ones.</remarks>
    private static (long[] Shape, ImmutableArray<DimensionSlice> Index) RandomBlock(Random random, int variant)
    {
        int rank = variant % 5;
        var shape = new long[rank];
        var index = ImmutableArray.CreateBuilder<DimensionSlice>(rank);
        for (int d = 0; d < rank; d++)
        {
            shape[d] = random.Next(1, 6);
            if (random.Next(3) == 0)
            {
                index.Add(new DimensionSlice(0, shape[d]));
            }
            else
            {
                long start = random.Next(0, (int)shape[d]);
                index.Add(new DimensionSlice(start, random.Next(1, (int)(shape[d] - start) + 1)));
            }
        }

        return (shape, index.MoveToImmutable());
    }

    private static long Product(long[] values) => values.Aggregate(1L, static (a, b) => a * b);

    /// <summary>The flat row-major offset of every block element, in block order.</summary>
    private static List<long> BlockOffsets(long[] shape, ImmutableArray<DimensionSlice> index)
    {
        List<long> offsets = [0];
        for (int d = 0; d < shape.Length; d++)
        {
            List<long> next = [];
            foreach (long offset in offsets)
            {
                for (long i = index[d].Start; i < index[d].Stop; i++)
                {
                    next.Add((offset * shape[d]) + i);
                }
            }

            offsets = next;
        }

        return offsets;
    }

    private static int[] NaiveGather(int[] global, long[] shape, ImmutableArray<DimensionSlice> index) =>
        [.. BlockOffsets(shape, index).Select(o => global[o])];

    private static void NaiveScatter(int[] block, long[] shape, ImmutableArray<DimensionSlice> index, int[] global)
    {
        List<long> offsets = BlockOffsets(shape, index);
        for (int i = 0; i < offsets.Count; i++)
        {
            global[offsets[i]] = block[i];
        }
    }
}
