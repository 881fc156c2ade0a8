namespace Artifex.Cpu.Runtime;

/// <summary>
/// The long-lived thread of one emulated device: it waits for a region to post work, runs that device's
/// participant, and waits again. Created once per device, never per call.
/// </summary>
internal sealed class DeviceWorker : IDisposable
{
    private readonly Thread _thread;
    private readonly WaitSignal _signal = new();
    private long _posted;
    private long _taken;
    private CpuSpmdRegion? _region;
    private int _deviceIndex;
    private volatile bool _stopping;

    public DeviceWorker(Device device)
    {
        _thread = new Thread(() => Loop(device.Id)) { IsBackground = true, Name = $"Artifex {device}" };
        _thread.Start();
    }

    /// <summary>Hands the worker its participant of a region. The worker must be idle (the provider guarantees it).</summary>
    public void Post(CpuSpmdRegion region, int deviceIndex)
    {
        _region = region;
        _deviceIndex = deviceIndex;
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

    private void Loop(int deviceId)
    {
        ThreadAffinity.TryPinCurrentThread(deviceId);
        while (true)
        {
            var posted = new WorkPosted(this);
            Waiting.Until(ref posted, _signal, WaitPolicy.Idle, long.MaxValue, region: null);
            _taken++;
            if (_stopping)
            {
                return;
            }

            CpuSpmdRegion region = _region!;
            _region = null;
            region.RunParticipant(_deviceIndex);
        }
    }

    private readonly struct WorkPosted(DeviceWorker worker) : IWaitCondition
    {
        public bool IsSatisfied() => Volatile.Read(ref worker._posted) != worker._taken;
    }
}
