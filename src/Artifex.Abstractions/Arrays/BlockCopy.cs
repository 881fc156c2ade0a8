using System.Collections.Immutable;

namespace Artifex;

/// <summary>Copies a rectangular block between a dense row-major array and a dense block buffer.</summary>
internal static class BlockCopy
{
    public static bool IsWhole(ReadOnlySpan<long> shape, ImmutableArray<DimensionSlice> index)
    {
        for (int d = 0; d < shape.Length; d++)
        {
            if (index[d].Start != 0 || index[d].Length != shape[d])
            {
                return false;
            }
        }

        return true;
    }

    public static void Gather<T>(ReadOnlySpan<T> global, ReadOnlySpan<long> shape, ImmutableArray<DimensionSlice> index, Span<T> block)
    {
        Run(shape, index, global, block, gather: true);
    }

    public static void Scatter<T>(ReadOnlySpan<T> block, ReadOnlySpan<long> shape, ImmutableArray<DimensionSlice> index, Span<T> global)
    {
        Run(shape, index, block, global, gather: false);
    }

    private static void Run<T>(
        ReadOnlySpan<long> shape,
        ImmutableArray<DimensionSlice> index,
        ReadOnlySpan<T> source,
        Span<T> destination,
        bool gather)
    {
        int rank = shape.Length;
        if (rank == 0)
        {
            source[..1].CopyTo(destination);
            return;
        }

        foreach (DimensionSlice slice in index)
        {
            if (slice.Length == 0)
            {
                return;
            }
        }

        // The innermost dimensions that the block covers whole merge into one contiguous run.
        int k = rank - 1;
        long inner = 1;
        while (k > 0 && index[k].Start == 0 && index[k].Length == shape[k])
        {
            inner *= shape[k];
            k--;
        }

        long run = index[k].Length * inner;
        if (run == 0)
        {
            return;
        }

        Span<long> strides = stackalloc long[rank];
        RowMajorStrides(shape, strides);
        Span<long> counter = stackalloc long[k];
        long blockOffset = 0;
        while (true)
        {
            long globalOffset = index[k].Start * strides[k];
            for (int d = 0; d < k; d++)
            {
                globalOffset += (index[d].Start + counter[d]) * strides[d];
            }

            if (gather)
            {
                source.Slice(checked((int)globalOffset), checked((int)run)).CopyTo(destination.Slice(checked((int)blockOffset)));
            }
            else
            {
                source.Slice(checked((int)blockOffset), checked((int)run)).CopyTo(destination.Slice(checked((int)globalOffset)));
            }

            blockOffset += run;
            if (!Advance(counter, index))
            {
                return;
            }
        }
    }

    /// <summary>Steps an odometer over the outer block dimensions; false once it wraps around.</summary>
    private static bool Advance(Span<long> counter, ImmutableArray<DimensionSlice> index)
    {
        for (int dim = counter.Length - 1; dim >= 0; dim--)
        {
            if (++counter[dim] < index[dim].Length)
            {
                return true;
            }

            counter[dim] = 0;
        }

        return false;
    }

    private static void RowMajorStrides(ReadOnlySpan<long> shape, Span<long> strides)
    {
        long stride = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= shape[d];
        }
    }
}
