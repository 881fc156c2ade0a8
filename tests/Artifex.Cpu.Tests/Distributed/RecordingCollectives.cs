using Artifex.Distributed;

namespace Artifex.Cpu.Tests.Distributed;

/// <summary>
/// A mock collectives back-end, the analogue of the original's <c>mock.patch("jax.lax.pmean", return_value=…)</c>:
/// every call returns a new array on the leaf's device holding the configured value (an in-place call fills the array
/// with it), and is recorded.
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

    /// <summary>Records the call with the op, determinism and length, and fills <paramref name="x"/> with the configured value.</summary>
    public void AllReduceInPlace(DeviceArray x, ReduceOp op, string axisName, Determinism determinism)
    {
        string method = FormattableString.Invariant($"all_reduce_in_place({op}, {determinism}, {x.Length})");
        Calls.Add((method, axisName));
        float value = _returns.TryGetValue("all_reduce_in_place", out float[]? v) ? v[0] : throw new InvalidOperationException($"{method} was not expected");
        if (x.ElementType == typeof(double))
        {
            x.Buffer.Provider.CopyFromHost<double>([.. Enumerable.Repeat((double)value, checked((int)x.Length))], x.Buffer);
        }
        else
        {
            x.Buffer.Provider.CopyFromHost<float>([.. Enumerable.Repeat(value, checked((int)x.Length))], x.Buffer);
        }
    }

    public int AxisSize(string axisName)
    {
        Calls.Add(("axis_size", axisName));
        return 2;
    }

    private DeviceArray<float> Record(string method, DeviceArray x, string axisName)
    {
        Calls.Add((method, axisName));
        float[] value = _returns.TryGetValue(method, out float[]? v) ? v : throw new InvalidOperationException($"{method} was not expected");
        long[] shape = value.Length == 1 ? [] : [value.Length];
        return DeviceArray.FromHost(x.Device, new HostArray<float>(value, shape));
    }
}
