using Artifex.Cuda.Runtime;
using Artifex.Runtime;

namespace Artifex.Cuda;

// SPMD regions and host-issued collectives.
public sealed partial class CudaProvider
{
    /// <inheritdoc/>
    /// <remarks>
    /// Each participant runs on its GPU's long-lived host thread with that GPU's context current. A collective is
    /// issued for the whole group by the last participant to arrive, inside one NCCL group; at the end of the region
    /// every participant waits for its stream, so GPU errors are the region's.
    /// </remarks>
    protected override void RunSpmdCore(Mesh mesh, Action<SpmdContext> body, CancellationToken cancellationToken)
    {
        SpmdWorkerPool workers = EnsureWorkers();
        try
        {
            workers.Run(new SpmdRegion(mesh, body, _backend, cancellationToken));
        }
        catch (Exception error)
        {
            CudaLog.RegionAborted(Logger, mesh, error.GetType().Name, error.Message);
            throw;
        }
    }

    /// <inheritdoc/>
    protected override void AllReduceShardsCore(GlobalArray array, Mesh mesh, ReduceOp op, ReadOnlySpan<string> axisNames)
    {
        string? reason = NcclTypes.GetUnsupportedReason(array.ElementType);
        if (reason is not null)
        {
            throw new ArgumentException(reason, nameof(array));
        }

        var buffers = new Dictionary<Device, CudaBuffer>();
        foreach (Shard shard in array.Shards)
        {
            buffers[shard.Device] = (CudaBuffer)shard.Buffer;
        }

        foreach (int[] group in mesh.GetAxisGroups(axisNames))
        {
            CudaBuffer[] members = [.. group.Select(d => buffers[mesh.Devices[d]])];
            if (members.Length > 1)
            {
                CollectiveCall[] calls = [.. members.Select(b => new CollectiveCall { Kind = CollectiveKind.AllReduce, ElementType = b.ElementType, Input = b, Output = b, Op = op })];
                NcclLaunch.Group(calls, Communicators.Get([.. members.Select(static b => b.State)]));
                if (op == ReduceOp.Mean)
                {
                    foreach (CudaBuffer member in members)
                    {
                        Divide(member, members.Length);
                    }
                }
            }
        }

        Synchronize();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (IsDisposed)
        {
            return;
        }

        if (!disposing)
        {
            base.Dispose(disposing);
            return;
        }

        // Workers first (no participant may run on), then the buffers still live, then what they depend on; each stage
        // runs even if an earlier one failed, so one GPU fault does not leak the rest.
        try
        {
            lock (_workersLock)
            {
                _workers?.Dispose();
            }
        }
        finally
        {
            try
            {
                base.Dispose(disposing);
            }
            finally
            {
                try
                {
                    Communicators.Dispose();
                }
                finally
                {
                    foreach (CudaDeviceState state in _states)
                    {
                        state.Dispose();
                    }
                }
            }
        }
    }

    private SpmdWorkerPool EnsureWorkers()
    {
        lock (_workersLock)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _workers ??= new SpmdWorkerPool(_devices, pinThreads: false);
        }
    }
}
