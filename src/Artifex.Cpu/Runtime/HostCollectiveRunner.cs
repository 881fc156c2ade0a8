using Artifex.Runtime;

namespace Artifex.Cpu.Runtime;

/// <summary>
/// Runs host-issued collectives: small ones on the calling thread alone (a hand-off would cost more than the
/// work), large ones on the calling thread plus one persistent helper per extra core.
/// </summary>
internal sealed class HostCollectiveRunner : IDisposable
{
    /// <summary>Below this many bytes of traffic, helpers are not woken.</summary>
    private const long ParallelThresholdBytes = 512 * 1024;

    private readonly List<ShardReduction> _plans = [];
    private readonly Lock _gate = new();
    private readonly WaitSignal _signal = new();
    private readonly Thread[] _helpers;
    private ShardReduction? _job;
    private long _posted;
    private int _activeHelpers;
    private volatile bool _stopping;

    public HostCollectiveRunner()
    {
        _helpers = new Thread[Math.Max(0, Environment.ProcessorCount - 1)];
        for (int i = 0; i < _helpers.Length; i++)
        {
            int self = i + 1;
            _helpers[i] = new Thread(() => HelperLoop(self)) { IsBackground = true, Name = $"Artifex host collective {self}" };
            _helpers[i].Start();
        }
    }

    public void AllReduce(GlobalArray array, Mesh mesh, ReduceOp op, ReadOnlySpan<string> axisNames)
    {
        lock (_gate)
        {
            ShardReduction plan = PlanFor(mesh, axisNames);
            plan.Prepare(array, op);
            long traffic = 2L * array.Shards.Length * array.Shards[0].Buffer.SizeInBytes;
            if (traffic >= ParallelThresholdBytes && _helpers.Length > 0 && plan.TotalChunks > 1)
            {
                Volatile.Write(ref _job, plan);
                Interlocked.Increment(ref _posted);
                _signal.Notify();
            }

            plan.Work(0);
            var done = new PlanDone(plan);
            Waiting.Until(ref done, _signal, WaitPolicy.Collective, long.MaxValue, region: null);

            // No helper may still be inside the plan when the next call prepares it again.
            Interlocked.Exchange(ref _job, null);
            var idle = new HelpersIdle(this);
            Waiting.Until(ref idle, _signal, WaitPolicy.Collective, long.MaxValue, region: null);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        Interlocked.Increment(ref _posted);
        _signal.Notify();
        foreach (Thread helper in _helpers)
        {
            helper.Join(TimeSpan.FromSeconds(5));
        }
    }

    private ShardReduction PlanFor(Mesh mesh, ReadOnlySpan<string> axisNames)
    {
        foreach (ShardReduction plan in _plans)
        {
            if (plan.Matches(mesh, axisNames))
            {
                return plan;
            }
        }

        if (_plans.Count >= 16)
        {
            _plans.RemoveAt(0);
        }

        var created = new ShardReduction(mesh, [.. axisNames], _helpers.Length + 1);
        _plans.Add(created);
        return created;
    }

    private void HelperLoop(int self)
    {
        ThreadAffinity.TryPinCurrentThread(self);
        long seen = 0;
        while (true)
        {
            var posted = new Posted(this, seen);
            Waiting.Until(ref posted, _signal, WaitPolicy.Idle, long.MaxValue, region: null);
            seen = Volatile.Read(ref _posted);
            if (_stopping)
            {
                return;
            }

            Interlocked.Increment(ref _activeHelpers);
            try
            {
                Volatile.Read(ref _job)?.Work(self);
            }
            finally
            {
                Interlocked.Decrement(ref _activeHelpers);
                _signal.Notify();
            }
        }
    }

    private readonly struct Posted(HostCollectiveRunner runner, long seen) : IWaitCondition
    {
        public bool IsSatisfied() => Volatile.Read(ref runner._posted) != seen;
    }

    private readonly struct HelpersIdle(HostCollectiveRunner runner) : IWaitCondition
    {
        public bool IsSatisfied() => Volatile.Read(ref runner._activeHelpers) == 0;
    }

    private readonly struct PlanDone(ShardReduction plan) : IWaitCondition
    {
        public bool IsSatisfied() => plan.IsDone;
    }
}
