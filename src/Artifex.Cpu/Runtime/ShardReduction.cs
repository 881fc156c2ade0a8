using Artifex.Cpu.Kernels;
using Artifex.Runtime;

namespace Artifex.Cpu.Runtime;

/// <summary>
/// A host-issued all-reduce of a global array's shards over some mesh axes, cut into chunks that the calling
/// thread and the helper device threads claim. Cached per (mesh, axes), so a repeated call allocates nothing.
/// </summary>
internal sealed class ShardReduction : ISpmdWork
{
    private readonly int[][] _groups;
    private readonly nint[] _pointers;
    private Type? _elementType;
    private ReduceOp _op;
    private ChunkPlan _plan;
    private readonly PartClaims _parts;
    private readonly WaitSignal _signal = new();
    private int _activeHelpers;

    public ShardReduction(Mesh mesh, string[] axisNames, Device[] helpers)
    {
        Helpers = helpers;
        _parts = new PartClaims(helpers.Length + 1);
        Mesh = mesh;
        AxisNames = axisNames;
        _groups = mesh.GetAxisGroups(axisNames);
        _pointers = new nint[mesh.Size];
    }

    public Mesh Mesh { get; }

    /// <summary>Gets the devices whose threads help with a large reduction, one per other core.</summary>
    public Device[] Helpers { get; }

    public string[] AxisNames { get; }

    public int TotalChunks => _plan.Chunks * _groups.Length;

    public bool Matches(Mesh mesh, ReadOnlySpan<string> axisNames) =>
        ReferenceEquals(mesh, Mesh) && axisNames.SequenceEqual(AxisNames);

    public unsafe void Prepare(GlobalArray array, ReduceOp op)
    {
        for (int k = 0; k < _pointers.Length; k++)
        {
            _pointers[k] = (nint)((CpuBuffer)array.Shards[k].Buffer).Address;
        }

        _elementType = array.ElementType;
        _op = op;
        _plan = new ChunkPlan(array.Shards[0].Buffer.Length, array.Shards[0].Buffer.ElementSize);
        _parts.Reset(TotalChunks);
    }

    /// <summary>Runs this thread's part of the chunks, then any part nobody has started.</summary>
    public void Work(int self)
    {
        var runner = new Runner(this);
        _parts.Work(self, ref runner);
    }

    /// <summary>Marks every helper as busy, before they are posted.</summary>
    public void StartHelpers() => Volatile.Write(ref _activeHelpers, Helpers.Length);

    /// <summary>A helper device thread's share: its part, then any part nobody has started.</summary>
    public void Run(int index)
    {
        try
        {
            Work(index);
        }
        finally
        {
            Interlocked.Decrement(ref _activeHelpers);
            _signal.Notify();
        }
    }

    /// <summary>Waits until every chunk is done and every helper has left the plan.</summary>
    public void WaitUntilFinished()
    {
        var finished = new Finished(this);
        Waiting.Until(ref finished, _signal, WaitPolicy.Collective, long.MaxValue, region: null);
    }

    /// <summary>Runs chunks [first, end) as one kernel call per group they touch.</summary>
    private void RunChunks(int first, int end)
    {
        int groupSize = _groups[0].Length;
        Span<nint> buffers = groupSize <= 64 ? stackalloc nint[groupSize] : new nint[groupSize];
        for (int chunk = first; chunk < end;)
        {
            int group = chunk / _plan.Chunks;
            int groupEnd = Math.Min(end, (group + 1) * _plan.Chunks);
            int[] members = _groups[group];
            (long start, long count) = _plan.Range(chunk % _plan.Chunks, groupEnd - (group * _plan.Chunks));
            for (int r = 0; r < members.Length; r++)
            {
                buffers[r] = _pointers[members[r]];
            }

            CollectiveDispatch.Reduce(_elementType!, _op, buffers, start, buffers, start, count);
            chunk = groupEnd;
        }
    }

    private readonly struct Finished(ShardReduction owner) : IWaitCondition
    {
        public bool IsSatisfied() => owner._parts.IsDone && Volatile.Read(ref owner._activeHelpers) == 0;
    }

    private readonly struct Runner(ShardReduction owner) : IChunkRunner
    {
        public void RunChunks(int first, int end) => owner.RunChunks(first, end);
    }
}
