using Artifex.Runtime;

namespace Artifex.Mpi;

// SPMD regions over meshes that span processes, host-issued collectives, disposal.
public sealed partial class MpiProvider
{
    /// <inheritdoc/>
    /// <remarks>
    /// Runs the participants of this process's devices of the mesh, each on its device's thread; every process of a
    /// multi-process job must run the same region (SPMD). If a participant throws in a multi-process job, the job is
    /// aborted with exit code <see cref="ExceptionExitCode"/> after the exception is printed.
    /// </remarks>
    protected override void RunSpmdCore(Mesh mesh, Action<SpmdContext> body, CancellationToken cancellationToken)
    {
        RequireEveryProcess(mesh);
        if (_processCount > 1)
        {
            Communicators.CreateAll(mesh);
        }

        SpmdWorkerPool workers = EnsureWorkers();
        try
        {
            workers.Run(new SpmdRegion(mesh, body, _backend, cancellationToken));
        }
        catch (Exception error) when (_processCount > 1)
        {
            // The other processes are, or will be, inside MPI waiting for this one: only aborting the job frees them.
            MpiRuntime.Abort(ExceptionExitCode, $"the SPMD region over {mesh} failed on process {_process}: {error}");
            throw;
        }
    }

    /// <inheritdoc/>
    /// <remarks>Runs a region whose participants all-reduce their own shards in place: every process must call it.</remarks>
    protected override void AllReduceShardsCore(GlobalArray array, Mesh mesh, ReduceOp op, ReadOnlySpan<string> axisNames)
    {
        string? reason = _backend.GetUnsupportedReason(array.ElementType);
        if (reason is not null)
        {
            throw new ArgumentException(reason, nameof(array));
        }

        string[] names = axisNames.ToArray();
        // The contract has claimed the mesh's devices for this call already.
        RunSpmdCore(mesh, context =>
        {
            DeviceArray block = array.GetLocalBlock(context.Device);
            context.AllReduce(block, block, op, context.GetAxisGroup(names));
        },
        CancellationToken.None);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (IsDisposed)
        {
            return;
        }

        base.Dispose(disposing);
        if (!disposing)
        {
            // Collected without Dispose: nothing can run a region any more; let the threads end.
            _workers?.Stop();
            return;
        }

        lock (_workersLock)
        {
            _workers?.Dispose();
        }

        Communicators.Dispose();
    }

    private void RequireEveryProcess(Mesh mesh)
    {
        if (_processCount == 1)
        {
            return;
        }

        int[] missing = [.. Enumerable.Range(0, _processCount).Where(p => !mesh.Devices.Any(d => d.ProcessIndex == p))];
        if (missing.Length > 0)
        {
            throw new NotSupportedException(
                $"{mesh} has no device of process{(missing.Length > 1 ? "es" : string.Empty)} {string.Join(", ", missing)}: in this version a region's mesh must include devices of every process, which all run it.");
        }
    }

    private SpmdWorkerPool EnsureWorkers()
    {
        lock (_workersLock)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _workers ??= new SpmdWorkerPool(LocalDevices, _backend.PinsThreads);
        }
    }
}
