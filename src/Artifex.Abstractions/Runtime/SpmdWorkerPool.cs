namespace Artifex.Runtime;

/// <summary>
/// The long-lived threads of a provider's local devices, one per device: a region's participant runs on its device's
/// thread, and a provider may post its own helper work to idle threads. Created once, never per call.
/// </summary>
public sealed class SpmdWorkerPool : IDisposable
{
    private readonly Worker[] _workers;
    private readonly int _firstId;

    /// <summary>Starts one thread per device.</summary>
    /// <param name="devices">This process's devices, with consecutive ids.</param>
    /// <param name="pinThreads">Whether to pin device k's thread to core k mod P (<see cref="ThreadAffinity"/>).</param>
    /// <exception cref="ArgumentException">The device ids are not consecutive.</exception>
    public SpmdWorkerPool(IReadOnlyList<Device> devices, bool pinThreads)
    {
        ArgumentNullException.ThrowIfNull(devices);
        _firstId = devices.Count > 0 ? devices[0].Id : 0;
        for (int k = 0; k < devices.Count; k++)
        {
            if (devices[k].Id != _firstId + k)
            {
                throw new ArgumentException("A worker pool needs devices with consecutive ids.", nameof(devices));
            }
        }

        _workers = [.. devices.Select(d => new Worker(d, pinThreads))];
    }

    /// <summary>Runs a region: posts each local participant to its device's thread and waits for all of them.</summary>
    /// <param name="region">The region; its devices must be idle (the provider's region admission guarantees it).</param>
    /// <remarks>Rethrows the first participant failure, as <see cref="SpmdRegion.Complete"/> does.</remarks>
    public void Run(SpmdRegion region)
    {
        ArgumentNullException.ThrowIfNull(region);
        foreach (int k in region.LocalDeviceIndices)
        {
            Post(region.Mesh.Devices[k], region, k);
        }

        region.Complete();
    }

    /// <summary>Hands an idle device thread a piece of work.</summary>
    /// <param name="device">The device whose thread runs it; the thread must be idle.</param>
    /// <param name="work">The work.</param>
    /// <param name="index">The index passed to <see cref="ISpmdWork.Run"/>.</param>
    public void Post(Device device, ISpmdWork work, int index)
    {
        ArgumentNullException.ThrowIfNull(device);
        _workers[device.Id - _firstId].Post(work, index);
    }

    /// <summary>Stops the threads, waiting up to 5 s for each.</summary>
    public void Dispose()
    {
        foreach (Worker worker in _workers)
        {
            worker.Dispose();
        }
    }

    private sealed class Worker : IDisposable
    {
        private readonly Thread _thread;
        private readonly WaitSignal _signal = new();
        private long _posted;
        private long _taken;
        private ISpmdWork? _work;
        private int _index;
        private volatile bool _stopping;

        public Worker(Device device, bool pin)
        {
            _thread = new Thread(() => Loop(pin ? device.Id : -1)) { IsBackground = true, Name = $"Artifex {device}" };
            _thread.Start();
        }

        public void Post(ISpmdWork work, int index)
        {
            _work = work;
            _index = index;
            Interlocked.Increment(ref _posted);
            _signal.Notify();
        }

        public void Dispose()
        {
            _stopping = true;
            Interlocked.Increment(ref _posted);
            _signal.Notify();
            _thread.Join(TimeSpan.FromSeconds(5));
        }

        private void Loop(int core)
        {
            if (core >= 0)
            {
                ThreadAffinity.TryPinCurrentThread(core);
            }

            while (true)
            {
                var posted = new WorkPosted(this);
                Waiting.Until(ref posted, _signal, WaitPolicy.Idle, long.MaxValue, region: null);
                _taken++;
                if (_stopping)
                {
                    return;
                }

                ISpmdWork work = _work!;
                _work = null;
                work.Run(_index);
            }
        }

        private readonly struct WorkPosted(Worker worker) : IWaitCondition
        {
            public bool IsSatisfied() => Volatile.Read(ref worker._posted) != worker._taken;
        }
    }
}
