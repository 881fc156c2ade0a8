using Artifex.Distributed;
using Artifex.Testing;

namespace Artifex.Cpu.Tests;

/// <summary>Keeps the README's quick start honest: the same lines are compiled here, run, and compared with README.md.</summary>
[Collection(ProcessState.Name)]
public sealed class ReadmeQuickStartTests
{
    [Fact]
    public void QuickStart_RunsAndPrintsEachDevicesRows()
    {
        TextWriter previous = Console.Out;
        using var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            QuickStart();
        }
        finally
        {
            Console.SetOut(previous);
        }

        Assert.Equal(
            ["cpu:0 holds rows 0:2", "cpu:1 holds rows 2:4", "cpu:2 holds rows 4:6", "cpu:3 holds rows 6:8"],
            output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public void QuickStart_IsVerbatimInReadme()
    {
        string readme = ReadmeText.Read("README.md");
        string source = ReadmeText.Read("tests", "Artifex.Cpu.Tests", "ReadmeQuickStartTests.cs");

        // The markers are split so that this line does not match them itself.
        string[] expected = ReadmeText.Lines(ReadmeText.Between(source, "// quickstart:" + "begin", "// quickstart:" + "end"));
        Assert.NotEmpty(expected);
        Assert.Equal(expected, ReadmeText.CodeLines(ReadmeText.Between(readme, "```csharp", "```")));
    }

    private static void QuickStart()
    {
        // quickstart:begin
        using var provider = new CpuProvider(deviceCount: 4);                  // 4 emulated devices
        Mesh mesh = new DeviceMeshManager(provider).CreateDataParallelMesh();  // Mesh('data': 4)
        var sharding = new NamedSharding(mesh, new PartitionSpec("data"));     // split dim 0 over "data"

        Tree<HostArray> batch = Tree.Dict(
            ("inputs", HostArray.From(new float[8 * 3], 8, 3)),                 // float32 features
            ("labels", HostArray.From(new int[8], 8)));                         // int32 labels, same tree

        Tree<GlobalArray> placed = batch.DevicePut(sharding);                  // jax.device_put
        foreach (Shard shard in placed["inputs"].Value.Shards)
        {
            Console.WriteLine($"{shard.Device} holds rows {shard.Index[0]}");  // cpu:0 holds rows 0:2 ...
        }

        placed.DisposeLeaves();                                                // device memory is freed explicitly
        // quickstart:end
    }
}
