using System.Collections.Concurrent;
using Artifex.Distributed;

namespace Artifex.Conformance;

/// <summary>
/// A collectives back-end that counts every call by name, then runs it on the region's real collectives: what a test
/// double sees of a Distributed-layer type, with real results.
/// </summary>
public sealed class CountingCollectives : ICollectives
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);

    /// <summary>Gets how often each member was called, by its JAX name.</summary>
    public IReadOnlyDictionary<string, int> Calls => _calls;

    /// <summary>Gets how often <paramref name="name"/> was called.</summary>
    public int Count(string name) => _calls.TryGetValue(name, out int count) ? count : 0;

    public DeviceArray Psum(DeviceArray x, string axisName) => Counted("psum", () => AmbientCollectives.Instance.Psum(x, axisName));

    public DeviceArray Pmean(DeviceArray x, string axisName) => Counted("pmean", () => AmbientCollectives.Instance.Pmean(x, axisName));

    public DeviceArray Pmax(DeviceArray x, string axisName) => Counted("pmax", () => AmbientCollectives.Instance.Pmax(x, axisName));

    public DeviceArray Pmin(DeviceArray x, string axisName) => Counted("pmin", () => AmbientCollectives.Instance.Pmin(x, axisName));

    public DeviceArray AllGather(DeviceArray x, string axisName) => Counted("all_gather", () => AmbientCollectives.Instance.AllGather(x, axisName));

    public void AllReduceInPlace(DeviceArray x, ReduceOp op, string axisName, Determinism determinism)
    {
        Add("all_reduce_in_place");
        AmbientCollectives.Instance.AllReduceInPlace(x, op, axisName, determinism);
    }

    public CollectiveRequest StartAllReduceInPlace(DeviceArray x, ReduceOp op, string axisName)
    {
        Add("start_all_reduce_in_place");
        return AmbientCollectives.Instance.StartAllReduceInPlace(x, op, axisName);
    }

    public void PsumScatter(DeviceArray x, DeviceArray output, string axisName)
    {
        Add("psum_scatter");
        AmbientCollectives.Instance.PsumScatter(x, output, axisName);
    }

    public void AllGather(DeviceArray x, DeviceArray output, string axisName)
    {
        Add("all_gather_into");
        AmbientCollectives.Instance.AllGather(x, output, axisName);
    }

    public int AxisIndex(string axisName)
    {
        Add("axis_index");
        return AmbientCollectives.Instance.AxisIndex(axisName);
    }

    public int AxisSize(string axisName)
    {
        Add("axis_size");
        return AmbientCollectives.Instance.AxisSize(axisName);
    }

    private DeviceArray Counted(string name, Func<DeviceArray> call)
    {
        Add(name);
        return call();
    }

    private void Add(string name) => _calls.AddOrUpdate(name, 1, static (_, count) => count + 1);
}
