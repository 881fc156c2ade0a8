using System.Diagnostics;
using System.Text.Json;
using Artifex.Distributed;

namespace Artifex.Samples.FashionMnist;

/// <summary>
/// A timeline of training steps in the Chrome trace format (chrome://tracing, https://ui.perfetto.dev): per device, the
/// forward pass, the backward pass, the wait for the gradients, the optimizer, and each gradient bucket's all-reduce on
/// the device's communication thread. Recording writes into arrays sized once, so tracing allocates nothing per step;
/// events past the capacity are counted and dropped.
/// </summary>
public sealed class StepTrace
{
    private static readonly string[] s_names = ["forward", "backward", "score + wait for gradients", "adam"];
    private readonly Event[][] _events;
    private readonly int[] _counts;
    private readonly long _origin = Stopwatch.GetTimestamp();
    private long _dropped;

    /// <summary>Initializes a trace for a number of devices.</summary>
    /// <param name="devices">The devices (mesh positions) that record.</param>
    /// <param name="capacityPerDevice">The most events one device keeps.</param>
    public StepTrace(int devices, int capacityPerDevice = 20_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(devices, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityPerDevice, 1);
        _events = [.. Enumerable.Range(0, devices).Select(_ => new Event[capacityPerDevice])];
        _counts = new int[devices];
    }

    /// <summary>Gets how many events did not fit.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Records a span of a device's own thread.</summary>
    /// <param name="device">The device's mesh position.</param>
    /// <param name="phase">What ran.</param>
    /// <param name="start">Its start (<see cref="Stopwatch.GetTimestamp"/>).</param>
    /// <param name="end">Its end.</param>
    public void Record(int device, StepPhase phase, long start, long end) => Add(device, new Event((int)phase, -1, 0, start, end));

    /// <summary>Records the bucket all-reduces of the step that just finished, on the device's communication track.</summary>
    /// <param name="device">The device's mesh position.</param>
    /// <param name="timings">The reducer's <see cref="GradientReducer.LastStepTimings"/>.</param>
    public void RecordBuckets(int device, ReadOnlySpan<GradientBucketTiming> timings)
    {
        foreach (GradientBucketTiming timing in timings)
        {
            Add(device, new Event(-1, timing.Bucket, timing.Bytes, timing.Started, timing.Finished));
        }
    }

    /// <summary>Writes the trace as Chrome trace JSON (microseconds since the trace was created).</summary>
    /// <param name="path">The file.</param>
    public void Write(string path)
    {
        using FileStream file = File.Create(path);
        using var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = false });
        json.WriteStartObject();
        json.WriteString("displayTimeUnit", "ms");
        json.WriteStartArray("traceEvents");
        for (int device = 0; device < _events.Length; device++)
        {
            WriteThreadName(json, device * 2, $"device {device}");
            WriteThreadName(json, (device * 2) + 1, $"device {device} communication");
            for (int i = 0; i < _counts[device]; i++)
            {
                WriteEvent(json, device, _events[device][i]);
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private void Add(int device, Event item)
    {
        int slot = _counts[device];
        if (slot == _events[device].Length)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        _events[device][slot] = item;
        _counts[device] = slot + 1;
    }

    private static void WriteThreadName(Utf8JsonWriter json, int thread, string name)
    {
        json.WriteStartObject();
        json.WriteString("name", "thread_name");
        json.WriteString("ph", "M");
        json.WriteNumber("pid", 0);
        json.WriteNumber("tid", thread);
        json.WriteStartObject("args");
        json.WriteString("name", name);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private void WriteEvent(Utf8JsonWriter json, int device, Event item)
    {
        json.WriteStartObject();
        bool bucket = item.Phase < 0;
        json.WriteString("name", bucket ? $"all-reduce bucket {item.Bucket}" : s_names[item.Phase]);
        json.WriteString("ph", "X");
        json.WriteNumber("pid", 0);
        json.WriteNumber("tid", (device * 2) + (bucket ? 1 : 0));
        json.WriteNumber("ts", Microseconds(item.Start - _origin));
        json.WriteNumber("dur", Microseconds(item.End - item.Start));
        if (bucket)
        {
            json.WriteStartObject("args");
            json.WriteNumber("bytes", item.Bytes);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    private static double Microseconds(long ticks) => Math.Round(ticks * 1e6 / Stopwatch.Frequency, 1);

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Auto)]
    private readonly record struct Event(int Phase, int Bucket, long Bytes, long Start, long End);
}
