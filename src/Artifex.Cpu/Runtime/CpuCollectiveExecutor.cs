using Artifex.Cpu.Kernels;
using Artifex.Runtime;

namespace Artifex.Cpu.Runtime;

/// <summary>
/// Runs the collectives of one axis group of a CPU region. Once every participant has arrived, the last one cuts the
/// work into chunks; below <see cref="InlineTrafficBytes"/> it runs them all itself, otherwise every working
/// participant claims parts of chunks and runs each part as one fused pass (read the inputs in rank order, write the
/// outputs), and everyone waits until all parts are done.
/// </summary>
/// <remarks>
/// Chunks are claimed, not assigned, so the threads that have a core do the work when participants outnumber cores.
/// Every element is still combined in rank order, so the bits do not depend on who ran which chunk.
/// </remarks>
internal sealed class CpuCollectiveExecutor : CollectiveExecutor
{
    /// <summary>
    /// Below this much memory traffic the last participant to arrive does all the work before it releases the others:
    /// waking them to share it would cost more than the work, and each waiter then wakes once instead of twice.
    /// </summary>
    private const long InlineTrafficBytes = 256 * 1024;

    private readonly int _size;
    private readonly PartClaims _parts;
    private readonly int[] _workerPart;
    private readonly nint[] _inputs;
    private readonly nint[] _outputs;
    private CollectiveCall _call;
    private ChunkPlan _plan;
    private long _perRankChunks;

    public CpuCollectiveExecutor(Rendezvous rendezvous)
        : base(rendezvous)
    {
        _size = rendezvous.Group.Size;
        _workerPart = AssignWorkers(rendezvous);
        _parts = new PartClaims(_workerPart.Count(static part => part >= 0));
        _inputs = new nint[_size];
        _outputs = new nint[_size];
    }

    public override unsafe bool Start()
    {
        ref readonly CollectiveCall d = ref Rendezvous.Agreed;
        _call = d;
        if (d.Kind == CollectiveKind.Barrier)
        {
            return false;
        }

        ReadOnlySpan<CollectiveCall> calls = Rendezvous.Calls;
        for (int k = 0; k < _size; k++)
        {
            _inputs[k] = (nint)((CpuBuffer)calls[k].Input!).Pointer;
            _outputs[k] = (nint)((CpuBuffer)calls[k].Output!).Pointer;
        }

        int chunks;
        if (d.Kind is CollectiveKind.AllGather or CollectiveKind.ReduceScatter)
        {
            _plan = new ChunkPlan(d.Kind == CollectiveKind.AllGather ? d.InputLength : d.OutputLength, d.ElementSize);
            _perRankChunks = _plan.Chunks;
            chunks = checked((int)(_perRankChunks * _size));
        }
        else
        {
            _plan = new ChunkPlan(d.InputLength, d.ElementSize);
            chunks = _plan.Chunks;
        }

        if (chunks == 0)
        {
            return false;
        }

        if ((long)_size * (d.InputLength + d.OutputLength) * d.ElementSize <= InlineTrafficBytes)
        {
            RunChunks(0, chunks);
            return false;
        }

        _parts.Reset(chunks);
        return true;
    }

    public override void Participate(int rank)
    {
        SpmdRegion region = Rendezvous.Region;
        var runner = new Runner(this);
        if (_workerPart[rank] >= 0 && _parts.Work(_workerPart[rank], ref runner))
        {
            region.Signal.Notify();
        }

        // Not abortable: once everyone has arrived, the chunks are finite work by running threads, and a participant
        // released early could free or reuse buffers that the others are still writing.
        var done = new AllChunksDone(_parts);
        Waiting.Until(ref done, region.Signal, region.WaitPolicy, long.MaxValue, region: null);
    }

    /// <summary>
    /// Picks one working participant per core: the first rank pinned to each core (or the first P ranks when threads
    /// are not pinned). With more participants than cores, every participant working meant four streams time-sliced on
    /// two cores (N = 4, 16 MiB: 0.92 ms in a region against 0.64 ms for the host form on two threads); the others
    /// wait, yielding their core to the workers.
    /// </summary>
    private static int[] AssignWorkers(Rendezvous rendezvous)
    {
        int cores = Environment.ProcessorCount;
        var parts = new int[rendezvous.Group.Size];
        var coreTaken = new bool[cores];
        int workers = 0;
        for (int rank = 0; rank < parts.Length; rank++)
        {
            int core = ThreadAffinity.IsEnabled ? rendezvous.Devices[rank].Id % cores : rank;
            bool works = core < cores && !coreTaken[core];
            if (works)
            {
                coreTaken[core] = true;
            }

            parts[rank] = works ? workers++ : -1;
        }

        return parts;
    }

    /// <summary>Runs chunks [first, end): an all-reduce's as one kernel call over their contiguous range, others chunk by chunk.</summary>
    private void RunChunks(int first, int end)
    {
        ref readonly CollectiveCall d = ref _call;
        if (d.Kind == CollectiveKind.AllReduce)
        {
            (long start, long count) = _plan.Range(first, end);
            Reduce(d.Op, _inputs, start, _outputs, start, count);
            return;
        }

        for (int c = first; c < end; c++)
        {
            RunChunk(c);
        }
    }

    private void RunChunk(int chunk)
    {
        ref readonly CollectiveCall d = ref _call;
        long es = d.ElementSize;
        switch (d.Kind)
        {
            case CollectiveKind.Broadcast:
                {
                    (long start, long count) = _plan.Range(chunk, chunk + 1);
                    CollectiveKernels.CopyToAll(_inputs[d.Root], start * es, _outputs, start * es, count * es);
                    break;
                }

            case CollectiveKind.AllGather:
                {
                    int source = (int)(chunk / _perRankChunks);
                    (long start, long count) = _plan.Range((int)(chunk % _perRankChunks), (int)(chunk % _perRankChunks) + 1);
                    CollectiveKernels.CopyToAll(_inputs[source], start * es, _outputs, ((source * d.InputLength) + start) * es, count * es);
                    break;
                }

            default:
                {
                    int target = (int)(chunk / _perRankChunks);
                    (long start, long count) = _plan.Range((int)(chunk % _perRankChunks), (int)(chunk % _perRankChunks) + 1);
                    Reduce(ReduceOp.Sum, _inputs, (target * d.OutputLength) + start, _outputs.AsSpan(target, 1), start, count);
                    break;
                }
        }
    }

    private void Reduce(ReduceOp op, ReadOnlySpan<nint> inputs, long inOffset, ReadOnlySpan<nint> outputs, long outOffset, long count)
    {
        ref readonly CollectiveCall d = ref _call;
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

    private readonly struct AllChunksDone(PartClaims parts) : IWaitCondition
    {
        public bool IsSatisfied() => parts.IsDone;
    }

    private readonly struct Runner(CpuCollectiveExecutor owner) : IChunkRunner
    {
        public void RunChunks(int first, int end) => owner.RunChunks(first, end);
    }
}
