using System.Collections.Concurrent;
using System.Diagnostics;
using Artifex.Distributed;

namespace Artifex.Testing;

/// <summary>
/// The real collectives of the current region behind a slower interconnect: each in-place all-reduce takes at least a
/// fixed latency more, and one participant's transfers queue on its link one after another (a bucket's transfer cannot
/// start before the previous one has finished), as on a network link. Blocking calls sleep; started ones complete after
/// the latency without blocking the caller. Records the order of starts, for scheduling tests.
/// </summary>
public sealed class LatencyCollectives : ICollectives
{
    private readonly ConcurrentDictionary<Device, long> _linkFree = new();
    private readonly long _latencyTicks;

    /// <summary>Initializes the double.</summary>
    /// <param name="latency">The time each in-place all-reduce takes on the link.</param>
    public LatencyCollectives(TimeSpan latency) => _latencyTicks = (long)(latency.TotalSeconds * Stopwatch.Frequency);

    /// <summary>Gets the events so far, in order: "start {length}" per started all-reduce, and whatever the caller adds.</summary>
    public ConcurrentQueue<(Device Device, string Event)> Events { get; } = new();

    /// <inheritdoc/>
    public DeviceArray Psum(DeviceArray x, string axisName) => AmbientCollectives.Instance.Psum(x, axisName);

    /// <inheritdoc/>
    public DeviceArray Pmean(DeviceArray x, string axisName) => AmbientCollectives.Instance.Pmean(x, axisName);

    /// <inheritdoc/>
    public DeviceArray Pmax(DeviceArray x, string axisName) => AmbientCollectives.Instance.Pmax(x, axisName);

    /// <inheritdoc/>
    public DeviceArray Pmin(DeviceArray x, string axisName) => AmbientCollectives.Instance.Pmin(x, axisName);

    /// <inheritdoc/>
    public DeviceArray AllGather(DeviceArray x, string axisName) => AmbientCollectives.Instance.AllGather(x, axisName);

    /// <inheritdoc/>
    public void AllReduceInPlace(DeviceArray x, ReduceOp op, string axisName, Determinism determinism)
    {
        AmbientCollectives.Instance.AllReduceInPlace(x, op, axisName, determinism);
        long ready = Reserve(x.Device);
        SleepUntil(ready);
    }

    /// <inheritdoc/>
    public CollectiveRequest StartAllReduceInPlace(DeviceArray x, ReduceOp op, string axisName)
    {
        Events.Enqueue((x.Device, $"start {x.Length}"));
        CollectiveRequest real = AmbientCollectives.Instance.StartAllReduceInPlace(x, op, axisName);
        long ready = Reserve(x.Device);
        return CollectiveRequest.FromTask(Task.Run(() =>
        {
            real.Wait();
            SleepUntil(ready);
        }));
    }

    /// <inheritdoc/>
    public int AxisSize(string axisName) => AmbientCollectives.Instance.AxisSize(axisName);

    /// <summary>Adds an event of the caller's (e.g. where a layer's computation starts).</summary>
    /// <param name="device">The device.</param>
    /// <param name="name">The event.</param>
    public void Mark(Device device, string name) => Events.Enqueue((device, name));

    private static void SleepUntil(long timestamp)
    {
        long remaining = timestamp - Stopwatch.GetTimestamp();
        if (remaining > 0)
        {
            Thread.Sleep(TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency));
        }
    }

    /// <summary>Books the link: this transfer ends a latency after the later of now and the previous transfer's end.</summary>
    private long Reserve(Device device)
    {
        long now = Stopwatch.GetTimestamp();
        long ready = 0;
        _linkFree.AddOrUpdate(device, _ => ready = now + _latencyTicks, (_, free) => ready = Math.Max(now, free) + _latencyTicks);
        return ready;
    }
}
