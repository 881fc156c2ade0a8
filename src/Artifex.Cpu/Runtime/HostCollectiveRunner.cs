using Artifex.Runtime;

namespace Artifex.Cpu.Runtime;

/// <summary>
/// Runs host-issued collectives: small ones on the calling thread alone (a hand-off would cost more than the work),
/// large ones on the calling thread plus, for each other core, the device thread of one of the mesh's devices pinned to
/// it (the provider's one worker pool; the contract has claimed the mesh's devices, so their threads are idle).
/// </summary>
internal sealed class HostCollectiveRunner
{
    /// <summary>Below this many bytes of traffic, helpers are not woken.</summary>
    private const long ParallelThresholdBytes = 512 * 1024;

    private readonly SpmdWorkerPool _workers;
    private readonly List<ShardReduction> _plans = [];
    private readonly Lock _gate = new();

    public HostCollectiveRunner(SpmdWorkerPool workers)
    {
        _workers = workers;
    }

    public void AllReduce(GlobalArray array, Mesh mesh, ReduceOp op, ReadOnlySpan<string> axisNames)
    {
        lock (_gate)
        {
            ShardReduction plan = PlanFor(mesh, axisNames);
            plan.Prepare(array, op);
            long traffic = 2L * array.Shards.Length * array.Shards[0].Buffer.SizeInBytes;
            if (traffic >= ParallelThresholdBytes && plan.Helpers.Length > 0 && plan.TotalChunks > 1)
            {
                plan.StartHelpers();
                for (int i = 0; i < plan.Helpers.Length; i++)
                {
                    _workers.Post(plan.Helpers[i], plan, i + 1);
                }
            }

            plan.Work(0);

            // No helper may still be inside the plan when the next call prepares it again.
            plan.WaitUntilFinished();
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

        var created = new ShardReduction(mesh, [.. axisNames], HelpersOf(mesh));
        _plans.Add(created);
        return created;
    }

    /// <summary>For each core but the first, the first mesh device whose thread is pinned to it (or the next devices when threads are not pinned).</summary>
    private static Device[] HelpersOf(Mesh mesh)
    {
        int cores = Environment.ProcessorCount;
        var helpers = new List<Device>();
        for (int core = 1; core < cores; core++)
        {
            Device? device = ThreadAffinity.IsEnabled
                ? mesh.Devices.FirstOrDefault(d => d.Id % cores == core)
                : core < mesh.Size ? mesh.Devices[core] : null;
            if (device is not null)
            {
                helpers.Add(device);
            }
        }

        return [.. helpers];
    }
}
