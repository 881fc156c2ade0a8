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
/// <para>
/// Chunks are claimed, not assigned, so the threads that have a core do the work when participants outnumber cores.
/// Every element is still combined in rank order, so the bits do not depend on who ran which chunk.
/// </para>
/// <para>
/// A building block for providers whose local devices are CPU memory: it runs over the rendezvous's local ranks, so a
/// multi-process provider can run an all-reduce's local step with it (<see cref="Start(in CollectiveCall, bool)"/>) and then
/// combine across processes. Gathers, scatters and broadcasts need every rank of the group to be local.
/// </para>
/// </remarks>
public sealed class CpuCollectiveExecutor : CollectiveExecutor
{
    /// <summary>
    /// Below this much memory traffic the last participant to arrive does all the work before it releases the others:
    /// waking them to share it would cost more than the work, and each waiter then wakes once instead of twice.
    /// </summary>
    private const long InlineTrafficBytes = 256 * 1024;

    private readonly int _size;
    private readonly int[] _local;
    private readonly PartClaims _parts;
    private readonly int[] _workerPart;
    private nint[] _inputs;
    private readonly nint[] _outputs;
    private CollectiveCall _call;
    private int _reducedOutputs;
    private ChunkPlan _plan;
    private long _perRankChunks;

    /// <summary>Creates the executor of a rendezvous whose local participants hold <see cref="CpuBuffer"/>s.</summary>
    /// <param name="rendezvous">The rendezvous.</param>
    public CpuCollectiveExecutor(Rendezvous rendezvous)
        : base(rendezvous)
    {
        _local = rendezvous.LocalRanks;
        _size = _local.Length;
        _workerPart = AssignWorkers(rendezvous);
        _parts = new PartClaims(Math.Max(1, _workerPart.Count(static part => part >= 0)));
        _inputs = new nint[_size];
        _outputs = new nint[_size];
    }

    /// <inheritdoc/>
    public override bool Start() => Start(in Rendezvous.Agreed, firstOutputOnly: false);

    /// <summary>
    /// Starts <paramref name="call"/> over the local participants' buffers of the round: its kind, op and root, with the
    /// buffers each participant brought. A multi-process provider passes its agreed call with <see cref="ReduceOp.Sum"/>
    /// for a mean, to divide by the global size after combining across processes.
    /// </summary>
    /// <param name="call">What to run.</param>
    /// <param name="firstOutputOnly">
    /// For an all-reduce: write the result to the lowest local rank's output only (a provider that combines it further and
    /// then copies it to the others saves writing every other output twice).
    /// </param>
    /// <returns>True when each local participant must then run <see cref="Participate"/>.</returns>
    /// <exception cref="InvalidOperationException">A gather, scatter or broadcast over a group with ranks in other processes.</exception>
    public unsafe bool Start(in CollectiveCall call, bool firstOutputOnly)
    {
        ref readonly CollectiveCall d = ref call;
        _call = d;
        _reducedOutputs = firstOutputOnly ? 1 : _size;
        if (d.Kind == CollectiveKind.Barrier)
        {
            return false;
        }

        if (d.Kind != CollectiveKind.AllReduce && _size != Rendezvous.Group.Size)
        {
            throw new InvalidOperationException($"{CollectiveCall.Name(d.Kind)} over axis {Rendezvous.Description} has ranks in other processes; the CPU executor runs it only when every rank is local.");
        }

        // An all-reduce's input may hold several output-sized blocks, each a contribution of its own (a reproducible
        // sum of every participant's microbatches): each block becomes one input of the fused pass.
        int blocks = d.Kind == CollectiveKind.AllReduce && d.OutputLength > 0 ? checked((int)(d.InputLength / d.OutputLength)) : 1;
        if (_inputs.Length != _size * blocks)
        {
            _inputs = new nint[_size * blocks];
        }

        ReadOnlySpan<CollectiveCall> calls = Rendezvous.Calls;
        for (int k = 0; k < _size; k++)
        {
            nint input = (nint)((CpuBuffer)calls[_local[k]].Input!).Address;
            for (int block = 0; block < blocks; block++)
            {
                _inputs[(k * blocks) + block] = input + (nint)(block * d.OutputLength * d.ElementSize);
            }

            _outputs[k] = (nint)((CpuBuffer)calls[_local[k]].Output!).Address;
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
            _plan = new ChunkPlan(d.Kind == CollectiveKind.AllReduce ? d.OutputLength : d.InputLength, d.ElementSize);
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

    /// <inheritdoc/>
    public override void Participate(int rank)
    {
        SpmdRegion region = Rendezvous.Region;
        var runner = new Runner(this);
        int part = _workerPart[rank];
        if (part >= 0 && _parts.Work(part, ref runner))
        {
            region.Signal.Notify();
        }

        // Not abortable: once everyone has arrived, the chunks are finite work by running threads, and a participant
        // released early could free or reuse buffers that the others are still writing.
        var done = new AllChunksDone(_parts);
        Waiting.Until(ref done, region.Signal, region.WaitPolicy, long.MaxValue, region: null);
        _parts.ThrowIfFailed();
    }

    /// <summary>
    /// Picks one working participant per core this process may use (<see cref="SpmdBackend.Cores"/>): the first rank
    /// pinned to each core (or the first P ranks when threads are not pinned). With more participants than cores, every participant working meant four streams time-sliced on
    /// two cores (N = 4, 16 MiB: 0.92 ms in a region against 0.64 ms for the host form on two threads); the others
    /// wait, yielding their core to the workers.
    /// </summary>
    private static int[] AssignWorkers(Rendezvous rendezvous)
    {
        int cores = Math.Min(Environment.ProcessorCount, rendezvous.Region.Backend.Cores);
        bool pinned = rendezvous.Region.Backend.PinsThreads && ThreadAffinity.IsEnabled;
        var parts = new int[rendezvous.Group.Size];
        Array.Fill(parts, -1);
        var coreTaken = new bool[cores];
        int workers = 0;
        for (int slot = 0; slot < rendezvous.LocalRanks.Length; slot++)
        {
            int rank = rendezvous.LocalRanks[slot];
            int core = pinned ? rendezvous.Devices[rank].Id % Environment.ProcessorCount : slot;
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
            Reduce(d.Op, _inputs, start, _outputs.AsSpan(0, _reducedOutputs), start, count);
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

        // A reproducible mean is the exact sum scaled by 1/(contribution count) inside the one rounding, never a sum of
        // pre-divided values.
        double scale = op == ReduceOp.Mean ? 1.0 / inputs.Length : 1.0;
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
