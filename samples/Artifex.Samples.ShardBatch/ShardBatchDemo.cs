using System.Globalization;
using Artifex.Cpu;
using Artifex.Distributed;
using Spectre.Console;

namespace Artifex.Samples.ShardBatch;

/// <summary>The demo: mesh → sharding → placed batch → a table of what each device holds.</summary>
internal static class ShardBatchDemo
{
    public static int Run(int deviceCount, int rows)
    {
        if (deviceCount < 1 || rows < 0)
        {
            AnsiConsole.MarkupLine("[red]--devices must be at least 1 and --rows non-negative.[/]");
            return 2;
        }

        using var provider = new CpuProvider(deviceCount);
        var manager = new DeviceMeshManager(provider);
        Mesh mesh = manager.CreateDataParallelMesh();
        var sharding = new NamedSharding(mesh, new PartitionSpec("data"));

        const int Features = 3;
        float[] inputs = [.. Enumerable.Range(0, rows * Features).Select(i => (float)i)];
        int[] labels = [.. Enumerable.Range(0, rows).Select(i => i % 10)];
        Tree<HostArray> batch = Tree.Dict(
            ("inputs", HostArray.From(inputs, rows, Features)),
            ("labels", HostArray.From(labels, rows)));

        Tree<GlobalArray> placed;
        try
        {
            placed = batch.DevicePut(sharding);
        }
        catch (ArgumentException error)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(error.Message)}[/]");
            return 1;
        }

        try
        {
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(mesh.ToString())}[/], batch of {rows} rows, sharding {Markup.Escape(sharding.ToString())}");
            AnsiConsole.Write(BuildTable(placed));
        }
        finally
        {
            placed.DisposeLeaves();
        }

        AnsiConsole.MarkupLine($"Live device buffers after disposal: {provider.LiveBufferCount}");
        return 0;
    }

    private static Table BuildTable(Tree<GlobalArray> placed)
    {
        var inputs = placed["inputs"].Value.As<float>();
        var labels = placed["labels"].Value.As<int>();
        var table = new Table().AddColumns("device", "rows", "inputs (shard)", "labels (shard)", "replica");
        foreach (Shard shard in inputs.Shards)
        {
            float[] x = inputs.GetShardData(shard.Device);
            int[] y = labels.GetShardData(shard.Device);
            table.AddRow(
                shard.Device.ToString(),
                Markup.Escape($"[{shard.Index[0].Start}, {shard.Index[0].Stop})"),
                Markup.Escape(Format(x)),
                Markup.Escape(Format(y)),
                shard.ReplicaId.ToString(CultureInfo.InvariantCulture));
        }

        return table;
    }

    private static string Format<T>(T[] values)
        where T : IFormattable =>
        "[" + string.Join(", ", values.Select(v => v.ToString(null, CultureInfo.InvariantCulture))) + "]";
}
