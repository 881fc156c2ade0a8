using System.Globalization;
using Artifex.Cpu.Kernels;

namespace Artifex.Cpu.Runtime;

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

    /// <summary>
    /// Below this much memory traffic the last participant to arrive does all the work before it releases the others:
    /// waking them to share it would cost more than the work, and each waiter then wakes once instead of twice.
    /// </summary>
    private const long InlineTrafficBytes = 256 * 1024;

    private readonly CollectiveDescriptor[] _slots;
    private readonly long[] _arrivedRound;
    private readonly int _size;
    private readonly CpuSpmdRegion _region;
    private readonly AxisGroup _group;

    private PaddedCounter _arrived;
    private PaddedCounter _generation;
    private readonly PartClaims _parts;
    private readonly int[] _workerPart;
    private string? _error;
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
        _workerPart = AssignWorkers(group);
        _parts = new PartClaims(_workerPart.Count(static part => part >= 0));
    }

    /// <summary>
    /// Picks one working participant per core: the first rank pinned to each core (or the first P ranks when threads
    /// are not pinned). With more participants than cores, every participant working meant four streams time-sliced on
    /// two cores (N = 4, 16 MiB: 0.92 ms in a region against 0.64 ms for the host form on two threads); the others
    /// wait, yielding their core to the workers.
    /// </summary>
    private static int[] AssignWorkers(AxisGroup group)
    {
        int cores = Environment.ProcessorCount;
        var parts = new int[group.Size];
        var coreTaken = new bool[cores];
        int workers = 0;
        for (int rank = 0; rank < group.Size; rank++)
        {
            int core = ThreadAffinity.IsEnabled ? group.Mesh.Devices[group.GetDeviceIndex(rank)].Id % cores : rank;
            bool works = core < cores && !coreTaken[core];
            if (works)
            {
                coreTaken[core] = true;
            }

            parts[rank] = works ? workers++ : -1;
        }

        return parts;
    }

    public void Run(int rank, in CollectiveDescriptor descriptor)
    {
        // Arrivals are counted cumulatively: round r completes when the count reaches (r + 1) · size. The count is
        // never reset, so a participant can withdraw (abort, timeout) with a compare-and-swap for as long as the round
        // is not complete, and can tell for sure when it is too late to leave.
        long round = Volatile.Read(ref _generation.Value);
        long target = (round + 1) * _size;
        _slots[rank] = descriptor;
        Volatile.Write(ref _arrivedRound[rank], round + 1);
        if (Interlocked.Increment(ref _arrived.Value) == target)
        {
            _error = Validate();
            Plan();
            if (_chunkCount > 0 && Traffic() <= InlineTrafficBytes)
            {
                RunChunks(0, _chunkCount);
                _chunkCount = 0;
            }

            Interlocked.Increment(ref _generation.Value);
            _region.Signal.Notify();
        }
        else
        {
            WaitForRelease(rank, round, target, descriptor.Kind);
        }

        if (_error is not null)
        {
            throw new ArgumentException(_error, nameof(descriptor));
        }

        if (_chunkCount == 0)
        {
            return;
        }

        var runner = new Runner(this);
        if (_workerPart[rank] >= 0 && _parts.Work(_workerPart[rank], ref runner))
        {
            _region.Signal.Notify();
        }

        // Not abortable: once everyone has arrived, the chunks are finite work by running threads, and a participant
        // released early could free or reuse buffers that the others are still writing.
        var done = new AllChunksDone(_parts);
        if (!Waiting.Until(ref done, _region.Signal, _region.WaitPolicy, long.MaxValue, region: null))
        {
            throw new InvalidOperationException("Unreachable: a chunk wait has no deadline.");
        }
    }

    /// <summary>
    /// Waits for the last participant. On abort or timeout the participant leaves only if it can withdraw its arrival;
    /// if the round is already complete, the others may be writing into its buffers, so it stays until they are done.
    /// </summary>
    private void WaitForRelease(int rank, long round, long target, CollectiveKind kind)
    {
        var released = new GenerationPassed(this, round);
        bool done;
        try
        {
            done = Waiting.Until(ref released, _region.Signal, _region.WaitPolicy, Waiting.Deadline(_region.Timeout), _region);
        }
        catch (OperationCanceledException)
        {
            if (TryWithdraw(target))
            {
                throw;
            }

            done = false;
        }

        if (!done && !_region.IsAborted && TryWithdraw(target))
        {
            throw _region.Abort(TimedOut(kind, round), _group.Mesh.Devices[_group.GetDeviceIndex(rank)]);
        }

        if (!done)
        {
            Waiting.Until(ref released, _region.Signal, _region.WaitPolicy, long.MaxValue, region: null);
        }
    }

    private bool TryWithdraw(long target)
    {
        while (true)
        {
            long arrived = Volatile.Read(ref _arrived.Value);
            if (arrived >= target)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _arrived.Value, arrived - 1, arrived) == arrived)
            {
                return true;
            }
        }
    }

    private void Plan()
    {
        ref readonly CollectiveDescriptor d = ref _slots[0];
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

        _parts.Reset(_chunkCount);
    }

    private long Traffic()
    {
        ref readonly CollectiveDescriptor d = ref _slots[0];
        return (long)_size * (d.InputLength + d.OutputLength) * d.ElementSize;
    }

    /// <summary>Runs chunks [first, end): an all-reduce's as one kernel call over their contiguous range, others chunk by chunk.</summary>
    private void RunChunks(int first, int end)
    {
        ref readonly CollectiveDescriptor d = ref _slots[0];
        Span<nint> inputs = _size <= 64 ? stackalloc nint[_size] : new nint[_size];
        Span<nint> outputs = _size <= 64 ? stackalloc nint[_size] : new nint[_size];
        for (int k = 0; k < _size; k++)
        {
            inputs[k] = _slots[k].Input;
            outputs[k] = _slots[k].Output;
        }

        if (d.Kind == CollectiveKind.AllReduce)
        {
            long start = first * _chunkElements;
            Reduce(d, d.Op, inputs, start, outputs, start, Math.Min(end * _chunkElements, d.InputLength) - start);
            return;
        }

        for (int c = first; c < end; c++)
        {
            RunChunk(d, c, inputs, outputs);
        }
    }

    private void RunChunk(in CollectiveDescriptor d, int chunk, ReadOnlySpan<nint> inputs, ReadOnlySpan<nint> outputs)
    {
        long es = d.ElementSize;
        switch (d.Kind)
        {
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
                    Reduce(d, ReduceOp.Sum, inputs, (target * d.OutputLength) + start, outputs.Slice(target, 1), start, count);
                    break;
                }
        }
    }

    private void Reduce(in CollectiveDescriptor d, ReduceOp op, ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count)
    {
        if (!d.Reproducible)
        {
            CollectiveDispatch.Reduce(d.ElementType!, op, inputs, inOffset, outputs, outOffset, count);
            return;
        }

        // A reproducible mean is the exact sum scaled by 1/size inside the one rounding, never a sum of pre-divided values.
        double scale = op == ReduceOp.Mean ? 1.0 / _size : 1.0;
        if (d.ElementType == typeof(Half))
        {
            ReproducibleKernels.FusedHalf(inputs, inOffset, outputs, outOffset, count, scale);
        }
        else
        {
            ReproducibleKernels.Fused(inputs, inOffset, outputs, outOffset, count, scale);
        }
    }

    private string? Validate()
    {
        ref readonly CollectiveDescriptor first = ref _slots[0];
        bool agree = true;
        for (int k = 1; k < _size && agree; k++)
        {
            ref readonly CollectiveDescriptor d = ref _slots[k];
            agree = d.Kind == first.Kind && d.ElementType == first.ElementType && d.InputLength == first.InputLength
                && d.OutputLength == first.OutputLength && d.Op == first.Op && d.Root == first.Root && d.Reproducible == first.Reproducible;
        }

        if (agree && first.Reproducible)
        {
            for (int k = 0; k < _size; k++)
            {
                if (_slots[k].WindowIndex >= 0)
                {
                    return $"Reproducible {CollectiveDescriptor.Name(first.Kind)} over axis {_group}: rank {k}'s "
                        + CpuKernels.WindowMessage("input", _slots[k].WindowIndex, _slots[k].WindowValue);
                }
            }
        }

        // Messages are built only when something disagrees, so a valid round allocates nothing.
        return agree ? null : Describe();
    }

    private string? Describe()
    {
        return Disagreement("collective", static d => CollectiveDescriptor.Name(d.Kind))
            ?? Disagreement("element type", static d => d.ElementType?.Name ?? "none")
            ?? Disagreement("element count", static d => d.InputLength.ToString(CultureInfo.InvariantCulture))
            ?? Disagreement("output element count", static d => d.OutputLength.ToString(CultureInfo.InvariantCulture))
            ?? Disagreement("reduce op", static d => d.Kind == CollectiveKind.AllReduce ? d.Op.ToString() : "none")
            ?? Disagreement("root", static d => d.Root.ToString(CultureInfo.InvariantCulture))
            ?? Disagreement("determinism", static d => d.Reproducible ? "Reproducible" : "RankOrdered");
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
        public bool IsSatisfied() => Volatile.Read(ref owner._generation.Value) != round;
    }

    private readonly struct AllChunksDone(PartClaims parts) : IWaitCondition
    {
        public bool IsSatisfied() => parts.IsDone;
    }

    private readonly struct Runner(GroupRendezvous owner) : IChunkRunner
    {
        public void RunChunks(int first, int end) => owner.RunChunks(first, end);
    }
}
