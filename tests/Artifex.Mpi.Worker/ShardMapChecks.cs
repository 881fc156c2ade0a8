using System.Globalization;

namespace Artifex.Mpi.Worker;

/// <summary>
/// <c>Spmd.ShardMap</c> and <c>Spmd.PMap</c> over meshes that span processes (JAX's multi-controller shard_map): every
/// process makes the same calls, passes global arrays of which it holds its own devices' blocks, and gets back arrays
/// holding its own devices' output blocks; the collectives inside reach across processes. Values are small integers, so
/// every expected result is exact.
/// </summary>
internal sealed class ShardMapChecks
{
    private const int Local = 2;
    private const int Columns = 3;
    private const int RowsPerDevice = 2;
    private readonly Failures _failures = new();

    public int Run()
    {
        using var provider = new MpiProvider(Local);
        int n = provider.Devices.Count;
        CheckDataAxis(provider, new Mesh(provider.Devices, ("data", n)), "mesh in id order");
        CheckDataAxis(provider, new Mesh([.. provider.Devices.Reverse()], ("data", n)), "reversed mesh");
        CheckGrid(provider);
        CheckPMap(provider, n);
        CheckRefusals(provider, n);
        _failures.Check(provider.LiveBufferCount == 0, string.Create(CultureInfo.InvariantCulture, $"{provider.LiveBufferCount} buffers still live at the end"));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rank {provider.ProcessIndex}/{provider.ProcessCount} {_failures.Report("SHARDMAP OK")}"));
        return _failures.None ? 0 : 1;
    }

    /// <summary>Element (r, c) of the global input: distinct small integers.</summary>
    private static float Input(int row, int column) => (row * Columns) + column + 1;

    /// <summary>
    /// Rows split over the axis, a replicated bias: each device returns its rows plus the bias and its axis index (split
    /// out spec), and the sum of every device's block (replicated out spec, through a psum across processes).
    /// </summary>
    private void CheckDataAxis(MpiProvider provider, Mesh mesh, string what)
    {
        int n = mesh.Size, rows = n * RowsPerDevice;
        float[] global = [.. Enumerable.Range(0, rows * Columns).Select(i => Input(i / Columns, i % Columns))];
        using GlobalArray x = GlobalArray.DevicePut(HostArray.From(global, rows, Columns), new NamedSharding(mesh, new PartitionSpec("data")));
        using GlobalArray bias = GlobalArray.DevicePut(HostArray.From([100f, 200f, 300f], Columns), new NamedSharding(mesh, PartitionSpec.Replicated));
        Tree<GlobalArray> outputs = Spmd.ShardMap(
            mesh,
            Tree.Dict(("bias", bias), ("x", x)),
            (path, _) => string.Equals(path.Segments[0], "x", StringComparison.Ordinal) ? new PartitionSpec("data") : PartitionSpec.Replicated,
            (path, _) => string.Equals(path.Segments[0], "shifted", StringComparison.Ordinal) ? new PartitionSpec("data") : PartitionSpec.Replicated,
            (context, local) =>
            {
                float[] block = local["x"].Value.As<float>().ToArray();
                float[] b = local["bias"].Value.As<float>().ToArray();
                int index = Collectives.AxisIndex("data");
                DeviceArray<float> shifted = DeviceArray.FromHost(context.Device, new HostArray<float>([.. block.Select((v, i) => v + b[i % Columns] + index)], RowsPerDevice, Columns));
                using DeviceArray<float> mine = DeviceArray.FromHost(context.Device, new HostArray<float>(block, RowsPerDevice, Columns));
                return Tree.Dict<DeviceArray>(("shifted", shifted), ("total", Collectives.Psum(mine, "data")));
            });
        try
        {
            GlobalArray<float> shifted = outputs["shifted"].Value.As<float>(), total = outputs["total"].Value.As<float>();
            _failures.Check(shifted.Shape.SequenceEqual([rows, Columns]) && total.Shape.SequenceEqual([RowsPerDevice, Columns]), $"{what}: output shapes");
            _failures.Check(shifted.Shards.Length == Local && shifted.Shards.All(s => provider.IsAddressable(s.Device)), $"{what}: the split output holds this process's blocks");
            _failures.Check(shifted.IsFullyAddressable == (provider.ProcessCount == 1) && total.IsFullyAddressable == (provider.ProcessCount == 1), $"{what}: IsFullyAddressable");
            foreach (Shard shard in shifted.Shards)
            {
                int position = mesh.Devices.IndexOf(shard.Device);
                float[] values = shifted.GetShardData(shard.Device);
                _failures.Expect(values, i => Input((position * RowsPerDevice) + (i / Columns), i % Columns) + ((i % Columns) + 1) * 100 + position, $"{what}: block of {shard.Device}");
            }

            float[] sum = total.ToArray();
            _failures.Expect(sum, i => Enumerable.Range(0, n).Sum(k => Input((k * RowsPerDevice) + (i / Columns), i % Columns)), $"{what}: replicated psum");
        }
        finally
        {
            outputs.DisposeLeaves();
        }
    }

    /// <summary>
    /// A data × model grid whose data axis crosses processes: each device returns its 2-D block doubled (split over both
    /// axes) and the psum over data of the blocks (split over model only, so replicated across processes).
    /// </summary>
    private void CheckGrid(MpiProvider provider)
    {
        int processes = provider.ProcessCount;
        var mesh = new Mesh(provider.Devices, ("data", processes), ("model", Local));
        int rows = processes * RowsPerDevice, columns = Local * Columns;
        float Global(long r, long c) => (r * columns) + c;
        float[] global = [.. Enumerable.Range(0, rows * columns).Select(i => Global(i / columns, i % columns))];
        var spec = new PartitionSpec("data", "model");
        using GlobalArray x = GlobalArray.DevicePut(HostArray.From(global, rows, columns), new NamedSharding(mesh, spec));
        Tree<GlobalArray> outputs = Spmd.ShardMap(
            mesh,
            x,
            (_, _) => spec,
            (path, _) => string.Equals(path.Segments[0], "doubled", StringComparison.Ordinal) ? spec : new PartitionSpec(null, "model"),
            (context, local) =>
            {
                DeviceArray<float> block = local.Value.As<float>();
                DeviceArray<float> doubled = DeviceArray.FromHost(context.Device, new HostArray<float>([.. block.ToArray().Select(static v => 2 * v)], RowsPerDevice, Columns));
                return Tree.Dict<DeviceArray>(("doubled", doubled), ("sum", Collectives.Psum(block, "data")));
            });
        try
        {
            GlobalArray<float> doubled = outputs["doubled"].Value.As<float>(), sum = outputs["sum"].Value.As<float>();
            _failures.Check(sum.Shape.SequenceEqual([RowsPerDevice, columns]), "grid: psum over data has the block's rows and every column");
            foreach (Shard shard in doubled.Shards)
            {
                (long r0, long c0) = (shard.Index[0].Start, shard.Index[1].Start);
                _failures.Expect(doubled.GetShardData(shard.Device), i => 2 * Global(r0 + (i / Columns), c0 + (i % Columns)), $"grid: doubled block of {shard.Device}");
            }

            foreach (Shard shard in sum.Shards)
            {
                long c0 = shard.Index[1].Start;
                _failures.Expect(sum.GetShardData(shard.Device), i => Enumerable.Range(0, processes).Sum(d => Global((d * RowsPerDevice) + (i / Columns), c0 + (i % Columns))), $"grid: psum of {shard.Device}");
            }
        }
        finally
        {
            outputs.DisposeLeaves();
        }
    }

    /// <summary>PMap over every device: slice d is (d + 1)·(column + 1); the psum over the mapped axis is the same on every slice.</summary>
    private void CheckPMap(MpiProvider provider, int n)
    {
        float[] stacked = [.. Enumerable.Range(0, n * Columns).Select(i => (float)(((i / Columns) + 1) * ((i % Columns) + 1)))];
        Tree<GlobalArray> outputs = Spmd.PMap(provider, "devices", HostArray.From(stacked, n, Columns), (_, local) => Collectives.Psum(local.Value.As<float>(), "devices"));
        try
        {
            GlobalArray<float> result = outputs.Value.As<float>();
            _failures.Check(result.Shape.SequenceEqual([n, Columns]) && result.Shards.Length == Local, "pmap: shape (n, columns), this process's slices");
            float devices = n * (n + 1) / 2f;
            foreach (Shard shard in result.Shards)
            {
                _failures.Expect(result.GetShardData(shard.Device), i => devices * (i + 1), $"pmap: slice of {shard.Device}");
            }
        }
        finally
        {
            outputs.DisposeLeaves();
        }
    }

    /// <summary>
    /// What a multi-controller call cannot do is refused on every process alike, before anything runs: resharding an input
    /// other processes hold part of, and a mesh without devices of some process (a PMap over process 0's devices alone).
    /// </summary>
    private void CheckRefusals(MpiProvider provider, int n)
    {
        var mesh = new Mesh(provider.Devices, ("data", n));
        float[] global = [.. Enumerable.Range(0, n * Columns).Select(static i => (float)i)];
        using GlobalArray x = GlobalArray.DevicePut(HostArray.From(global, n, Columns), new NamedSharding(mesh, new PartitionSpec("data")));
        string? reshard = Refusal(() => Spmd.ShardMap(mesh, Tree.Dict(("x", x)), PartitionSpec.Replicated, PartitionSpec.Replicated, (_, local) => local["x"].Value.Clone()));
        _failures.Check(
            provider.ProcessCount == 1 ? reshard is null : reshard?.Contains("Input 'x' is laid out as", StringComparison.Ordinal) == true && reshard.Contains("other processes", StringComparison.Ordinal),
            $"resharding an input other processes hold part of: {reshard ?? "not refused"}");

        string? partial = Refusal(() => Spmd.PMap(provider, "devices", HostArray.From(new float[Local * Columns], Local, Columns), (_, local) => local.Value.Clone()));
        _failures.Check(
            provider.ProcessCount == 1 ? partial is null : partial?.Contains("has no device of process 1; over", StringComparison.Ordinal) == true,
            $"pmap over process 0's devices alone: {partial ?? "ran"}");
    }

    /// <summary>Runs a call and returns the message of the <see cref="ArgumentException"/> it throws, or null (disposing what it returned).</summary>
    private static string? Refusal(Func<Tree<GlobalArray>> call)
    {
        try
        {
            call().DisposeLeaves();
            return null;
        }
        catch (ArgumentException error)
        {
            return error.Message;
        }
    }
}
