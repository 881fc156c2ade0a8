using System.Numerics;

namespace Artifex.Mpi.Worker;

/// <summary>All-reduce, all-gather, reduce-scatter and broadcast of one element type, out of place and in place.</summary>
internal sealed unsafe partial class SmokeChecks
{
    private void CheckType<T>()
        where T : unmanaged, INumber<T>
    {
        foreach (ReduceOp op in (ReduceOp[])[ReduceOp.Sum, ReduceOp.Max, ReduceOp.Min])
        {
            CheckAllReduce<T>(op, inPlace: false);
            CheckAllReduce<T>(op, inPlace: true);
            CheckReduceScatter<T>(op, inPlace: false);
            CheckReduceScatter<T>(op, inPlace: true);
        }

        CheckAllGather<T>(inPlace: false);
        CheckAllGather<T>(inPlace: true);
        CheckBroadcast<T>();
    }

    private T[] Reduced<T>(ReduceOp op, int count, Func<int, int, T> value)
        where T : unmanaged, INumber<T>
    {
        var expected = new T[count];
        for (int i = 0; i < count; i++)
        {
            T result = value(0, i);
            for (int r = 1; r < Size; r++)
            {
                T next = value(r, i);
                result = op == ReduceOp.Sum ? result + next : op == ReduceOp.Max ? T.Max(result, next) : T.Min(result, next);
            }

            expected[i] = result;
        }

        return expected;
    }

    private void CheckAllReduce<T>(ReduceOp op, bool inPlace)
        where T : unmanaged, INumber<T>
    {
        T[] send = [.. Enumerable.Range(0, Count).Select(i => Value<T>(Rank, i))];
        T[] receive = inPlace ? [.. send] : new T[Count];
        fixed (T* s = send)
        fixed (T* r = receive)
        {
            _world.AllReduce(inPlace ? null : s, r, Count, typeof(T), op);
        }

        ExpectEqual<T>(Reduced<T>(op, Count, Value<T>), receive, $"all_reduce {op} of {typeof(T).Name}{(inPlace ? " in place" : string.Empty)}");
    }

    private void CheckReduceScatter<T>(ReduceOp op, bool inPlace)
        where T : unmanaged, INumber<T>
    {
        // Rank r contributes Size blocks; block b of the reduction lands on rank b.
        T[] send = [.. Enumerable.Range(0, Size * Block).Select(i => Value<T>(Rank, i))];
        T[] receive = inPlace ? [.. send] : new T[Block];
        fixed (T* s = send)
        fixed (T* r = receive)
        {
            _world.ReduceScatterBlock(inPlace ? null : s, r, Block, typeof(T), op);
        }

        T[] expected = Reduced<T>(op, Block, (r, i) => Value<T>(r, (Rank * Block) + i));
        ExpectEqual<T>(expected, receive.AsSpan(0, Block), $"reduce_scatter {op} of {typeof(T).Name}{(inPlace ? " in place" : string.Empty)}");
    }

    private void CheckAllGather<T>(bool inPlace)
        where T : unmanaged, INumber<T>
    {
        T[] send = [.. Enumerable.Range(0, Block).Select(i => Value<T>(Rank, i))];
        var receive = new T[Size * Block];
        if (inPlace)
        {
            send.CopyTo(receive, Rank * Block);
        }

        fixed (T* s = send)
        fixed (T* r = receive)
        {
            _world.AllGather(inPlace ? null : s, r, Block, typeof(T));
        }

        T[] expected = [.. Enumerable.Range(0, Size * Block).Select(j => Value<T>(j / Block, j % Block))];
        ExpectEqual<T>(expected, receive, $"all_gather of {typeof(T).Name}{(inPlace ? " in place" : string.Empty)}");
    }

    private void CheckBroadcast<T>()
        where T : unmanaged, INumber<T>
    {
        int root = Size - 1;
        T[] buffer = [.. Enumerable.Range(0, Count).Select(i => Rank == root ? Value<T>(root, i) : T.Zero)];
        fixed (T* b = buffer)
        {
            _world.Broadcast(b, Count, typeof(T), root);
        }

        ExpectEqual<T>([.. Enumerable.Range(0, Count).Select(i => Value<T>(root, i))], buffer, $"broadcast of {typeof(T).Name} from {root}");
    }

    /// <summary>Buffers longer than one call's limit go in consecutive calls; a limit of 7 makes 100 elements 15 calls.</summary>
    private void CheckChunking()
    {
        _world.MaxElementsPerCall = 7;
        try
        {
            CheckAllReduce<double>(ReduceOp.Sum, inPlace: false);
            CheckAllReduce<int>(ReduceOp.Max, inPlace: true);
            CheckBroadcast<long>();
        }
        finally
        {
            _world.MaxElementsPerCall = int.MaxValue;
        }
    }
}
