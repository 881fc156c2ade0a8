namespace Artifex.Runtime;

/// <summary>
/// The long-lived threads of a provider's local devices, one per device: a region's participant runs on its device's
/// thread, and a provider may post its own helper work to idle threads. Created once, never per call.
/// </summary>
public sealed class SpmdWorkerPool : IDisposable
{
    private static int s_liveThreads;
    private readonly Worker[] _workers;
    private readonly CommunicationLane?[] _lanes;
    private readonly IReadOnlyList<Device> _devices;
    private readonly Lock _lanesLock = new();
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
        _lanes = new CommunicationLane?[devices.Count];
        _devices = devices;
    }

    /// <summary>
    /// Gets how many worker threads of all pools in the process are running: a provider that is never disposed stops its
    /// threads when the garbage collector finalizes it, so this count shows whether providers are being left behind.
    /// </summary>
    public static int LiveThreads => Volatile.Read(ref s_liveThreads);

    /// <summary>Runs a region: posts each local participant to its device's thread and waits for all of them.</summary>
    /// <param name="region">The region; its devices must be idle (the provider's region admission guarantees it).</param>
    /// <remarks>Rethrows the first participant failure, as <see cref="SpmdRegion.Complete"/> does.</remarks>
    public void Run(SpmdRegion region)
    {
        ArgumentNullException.ThrowIfNull(region);
        region.Pool = this;
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
        Stop();
        foreach (Worker worker in _workers)
        {
            worker.Dispose();
        }

        foreach (CommunicationLane? lane in _lanes)
        {
            lane?.Dispose();
        }
    }

    /// <summary>Tells every thread to stop once idle, without waiting (what a provider's finalizer may do).</summary>
    public void Stop()
    {
        foreach (Worker worker in _workers)
        {
            worker.Stop();
        }

        lock (_lanesLock)
        {
            foreach (CommunicationLane? lane in _lanes)
            {
                lane?.Stop();
            }
        }
    }

    /// <summary>Gets a device's communication thread, started on first use and kept for the pool's life.</summary>
    internal CommunicationLane GetLane(Device device)
    {
        int slot = device.Id - _firstId;
        lock (_lanesLock)
        {
            return _lanes[slot] ??= new CommunicationLane(_devices[slot]);
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
            // The thread must not reach the device (nor through it the provider), or an undisposed provider could never be
            // collected and its threads would run for ever.
            int core = pin ? device.Id : -1;
            _thread = new Thread(() => Loop(core)) { IsBackground = true, Name = $"Artifex {device}" };
            Interlocked.Increment(ref s_liveThreads);
            _thread.Start();
        }

        public void Post(ISpmdWork work, int index)
        {
            _work = work;
            _index = index;
            Interlocked.Increment(ref _posted);
            _signal.Notify();
        }

        public void Stop()
        {
            if (!_stopping)
            {
                _stopping = true;
                Interlocked.Increment(ref _posted);
                _signal.Notify();
            }
        }

        public void Dispose() => _thread.Join(TimeSpan.FromSeconds(5));

        private void Loop(int core)
        {
            try
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

                    RunPosted();
                }
            }
            finally
            {
                Interlocked.Decrement(ref s_liveThreads);
            }
        }

        /// <summary>Runs the posted work in a frame of its own, so no slot of the idle loop keeps the work (and its provider) reachable.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private void RunPosted()
        {
            ISpmdWork work = _work!;
            _work = null;
            work.Run(_index);
        }

        private readonly struct WorkPosted(Worker worker) : IWaitCondition
        {
            public bool IsSatisfied() => Volatile.Read(ref worker._posted) != worker._taken;
        }
    }
}
