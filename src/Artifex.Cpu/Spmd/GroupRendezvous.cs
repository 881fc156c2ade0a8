using System.Globalization;
using Artifex.Cpu.Kernels;

namespace Artifex.Cpu.Spmd;

/// <summary>
/// The meeting point of one group of participants (one axis tuple, one group index) in one region. A round:
/// every participant publishes its descriptor and arrives; the last to arrive validates the descriptors and cuts
/// the work into chunks; then every participant claims chunks until none are left and waits until all are done.
/// </summary>
/// <remarks>
/// Chunks are claimed, not assigned, so the threads that have a core do the work when participants outnumber cores.
/// Every element is still combined in rank order, so the bits do not depend on who ran which chunk.
/// </remarks>
internal sealed class GroupRendezvous
{
    /// <summary>Bytes per chunk: large enough to amortize the claim, small enough to balance two cores.</summary>
    private const int ChunkBytes = 32 * 1024;

    private readonly CollectiveDescriptor[] _slots;
    private readonly long[] _arrivedRound;
    private readonly int _size;
    private readonly CpuSpmdRegion _region;
    private readonly AxisGroup _group;

    private int _arrived;
    private long _generation;
    private string? _error;
    private int _nextChunk;
    private int _doneChunks;
    private int _chunkCount;
    private long _chunkElements;
    private long _perRankChunks;

    public GroupRendezvous(CpuSpmdRegion region, AxisGroup group)
    {
        _region = region;
        _group = group;
        _size = group.Size;
        _slots = new CollectiveDescriptor[_size];
        _arrivedRound = new long[_size];
    }

    public void Run(int rank, in CollectiveDescriptor descriptor)
    {
        long round = Volatile.Read(ref _generation);
        _slots[rank] = descriptor;
        Volatile.Write(ref _arrivedRound[rank], round + 1);
        if (Interlocked.Increment(ref _arrived) == _size)
        {
            _arrived = 0;
            _error = Validate();
            Plan();
            Interlocked.Increment(ref _generation);
            _region.Signal.Notify();
        }
        else
        {
            var released = new GenerationPassed(this, round);
            if (!Waiting.Until(ref released, _region.Signal, _region.Oversubscribed, Waiting.Deadline(_region.Timeout), _region))
            {
                throw _region.Abort(TimedOut(descriptor.Kind, round), _group.Mesh.Devices[_group.GetDeviceIndex(rank)]);
            }
        }

        if (_error is not null)
        {
            throw new ArgumentException(_error, nameof(descriptor));
        }

        int chunks = _chunkCount;
        if (chunks == 0)
        {
            return;
        }

        for (int c = Interlocked.Increment(ref _nextChunk) - 1; c < chunks; c = Interlocked.Increment(ref _nextChunk) - 1)
        {
            RunChunk(c);
            if (Interlocked.Increment(ref _doneChunks) == chunks)
            {
                _region.Signal.Notify();
            }
        }

        var done = new AllChunksDone(this, chunks);
        if (!Waiting.Until(ref done, _region.Signal, _region.Oversubscribed, long.MaxValue, _region))
        {
            throw new InvalidOperationException("Unreachable: a chunk wait has no deadline.");
        }
    }

    private void Plan()
    {
        ref readonly CollectiveDescriptor d = ref _slots[0];
        _nextChunk = 0;
        _doneChunks = 0;
        if (_error is not null || d.Kind == CollectiveKind.Barrier)
        {
            _chunkCount = 0;
            return;
        }

        _chunkElements = ChunkBytes / d.ElementSize;
        long perRank = d.Kind switch
        {
            CollectiveKind.AllGather => d.InputLength,
            CollectiveKind.ReduceScatter => d.OutputLength,
            _ => 0,
        };
        if (d.Kind is CollectiveKind.AllGather or CollectiveKind.ReduceScatter)
        {
            _perRankChunks = (perRank + _chunkElements - 1) / _chunkElements;
            _chunkCount = checked((int)(_perRankChunks * _size));
        }
        else
        {
            _chunkCount = checked((int)((d.InputLength + _chunkElements - 1) / _chunkElements));
        }
    }

    private void RunChunk(int chunk)
    {
        ref readonly CollectiveDescriptor d = ref _slots[0];
        Span<nint> inputs = _size <= 64 ? stackalloc nint[_size] : new nint[_size];
        Span<nint> outputs = _size <= 64 ? stackalloc nint[_size] : new nint[_size];
        for (int k = 0; k < _size; k++)
        {
            inputs[k] = _slots[k].Input;
            outputs[k] = _slots[k].Output;
        }

        long es = d.ElementSize;
        switch (d.Kind)
        {
            case CollectiveKind.AllReduce:
            {
                long start = chunk * _chunkElements;
                long count = Math.Min(_chunkElements, d.InputLength - start);
                CollectiveDispatch.Reduce(d.ElementType!, d.Op, inputs, start, outputs, start, count);
                break;
            }

            case CollectiveKind.Broadcast:
            {
                long start = chunk * _chunkElements;
                long count = Math.Min(_chunkElements, d.InputLength - start);
                CollectiveKernels.CopyToAll(inputs[d.Root], start * es, outputs, start * es, count * es);
                break;
            }

            case CollectiveKind.AllGather:
            {
                int source = (int)(chunk / _perRankChunks);
                long start = chunk % _perRankChunks * _chunkElements;
                long count = Math.Min(_chunkElements, d.InputLength - start);
                CollectiveKernels.CopyToAll(inputs[source], start * es, outputs, ((source * d.InputLength) + start) * es, count * es);
                break;
            }

            default:
            {
                int target = (int)(chunk / _perRankChunks);
                long start = chunk % _perRankChunks * _chunkElements;
                long count = Math.Min(_chunkElements, d.OutputLength - start);
                CollectiveDispatch.Reduce(d.ElementType!, ReduceOp.Sum, inputs, (target * d.OutputLength) + start, outputs.Slice(target, 1), start, count);
                break;
            }
        }
    }

    private string? Validate()
    {
        return Disagreement("collective", static d => CollectiveDescriptor.Name(d.Kind))
            ?? Disagreement("element type", static d => d.ElementType?.Name ?? "none")
            ?? Disagreement("element count", static d => d.InputLength.ToString(CultureInfo.InvariantCulture))
            ?? Disagreement("output element count", static d => d.OutputLength.ToString(CultureInfo.InvariantCulture))
            ?? Disagreement("reduce op", static d => d.Kind == CollectiveKind.AllReduce ? d.Op.ToString() : "none")
            ?? Disagreement("root", static d => d.Root.ToString(CultureInfo.InvariantCulture));
    }

    private string? Disagreement(string what, Func<CollectiveDescriptor, string> key)
    {
        string first = key(_slots[0]);
        bool differs = false;
        for (int k = 1; k < _size && !differs; k++)
        {
            differs = !string.Equals(key(_slots[k]), first, StringComparison.Ordinal);
        }

        if (!differs)
        {
            return null;
        }

        IEnumerable<string> groups = Enumerable.Range(0, _size)
            .GroupBy(k => key(_slots[k]), StringComparer.Ordinal)
            .Select(g => $"rank{(g.Count() > 1 ? "s" : string.Empty)} {string.Join(", ", g)} {(g.Count() > 1 ? "have" : "has")} {g.Key}");
        return $"Participants of {CollectiveDescriptor.Name(_slots[0].Kind)} over axis {_group} disagree on the {what}: {string.Join("; ", groups)}. No buffer was changed.";
    }

    private TimeoutException TimedOut(CollectiveKind kind, long round)
    {
        int[] missing = [.. Enumerable.Range(0, _size).Where(k => Volatile.Read(ref _arrivedRound[k]) != round + 1)];
        string devices = string.Join(", ", missing.Select(k => _group.Mesh.Devices[_group.GetDeviceIndex(k)].ToString()));
        return new TimeoutException(
            $"{CollectiveDescriptor.Name(kind)} over axis {_group} timed out after {_region.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s: rank{(missing.Length > 1 ? "s" : string.Empty)} {string.Join(", ", missing)} of {_size} ({devices}) never arrived.");
    }

    private readonly struct GenerationPassed(GroupRendezvous owner, long round) : IWaitCondition
    {
        public bool IsSatisfied() => Volatile.Read(ref owner._generation) != round;
    }

    private readonly struct AllChunksDone(GroupRendezvous owner, int chunks) : IWaitCondition
    {
        public bool IsSatisfied() => Volatile.Read(ref owner._doneChunks) >= chunks;
    }
}
