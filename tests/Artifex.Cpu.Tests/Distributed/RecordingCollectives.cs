using Artifex.Distributed;

namespace Artifex.Cpu.Tests.Distributed;

/// <summary>
/// A mock collectives back-end, the analogue of the original's <c>mock.patch("jax.lax.pmean", return_value=…)</c>:
/// every call returns a new array on the leaf's device holding the configured value, and is recorded.
/// </summary>
public sealed class RecordingCollectives : ICollectives
{
    private readonly Dictionary<string, float[]> _returns = new(StringComparer.Ordinal);

    public IList<(string Method, string AxisName)> Calls { get; } = new List<(string Method, string AxisName)>();

    public RecordingCollectives Returning(string method, params float[] value)
    {
        _returns[method] = value;
        return this;
    }

    public DeviceArray Psum(DeviceArray x, string axisName) => Record("psum", x, axisName);

    public DeviceArray Pmean(DeviceArray x, string axisName) => Record("pmean", x, axisName);

    public DeviceArray Pmax(DeviceArray x, string axisName) => Record("pmax", x, axisName);

    public DeviceArray Pmin(DeviceArray x, string axisName) => Record("pmin", x, axisName);

    public DeviceArray AllGather(DeviceArray x, string axisName) => Record("all_gather", x, axisName);

    private DeviceArray<float> Record(string method, DeviceArray x, string axisName)
    {
        Calls.Add((method, axisName));
        float[] value = _returns.TryGetValue(method, out float[]? v) ? v : throw new InvalidOperationException($"{method} was not expected");
        long[] shape = value.Length == 1 ? [] : [value.Length];
        return DeviceArray.FromHost(x.Device, new HostArray<float>(value, shape));
    }
}
