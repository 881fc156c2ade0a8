using Artifex.Distributed;
using Artifex.Testing;

namespace Artifex.Cpu.Tests;

/// <summary>
/// The README's C# versions of the seed's usage examples: each runs here, and its lines must appear verbatim in
/// README.md in the code block that follows <c>&lt;!-- example:NAME --&gt;</c>.
/// </summary>
[Collection(ProcessState.Name)]
public sealed class ReadmeExamplesTests
{
    [Fact]
    public void Basic_RunsAndIsInReadme()
    {
        // example:basic:begin
        using var provider = new CpuProvider(deviceCount: 4);
        var dp = new DataParallel();
        Mesh mesh = new DeviceMeshManager(provider).CreateDataParallelMesh();          // Mesh('data': 4)
        NamedSharding sharding = dp.CreateDataParallelSharding(mesh);                  // P("data")
        Tree<GlobalArray> batch = dp.ShardBatch(
            Tree.Dict(("inputs", HostArray.From(new float[32 * 784], 32, 784)), ("labels", HostArray.From(new int[32], 32))),
            sharding);                                                                 // 8 rows per device
        Console.WriteLine(batch["inputs"].Value.Shards[0].Shape[0]);                  // 8
        batch.DisposeLeaves();
        // example:basic:end
        AssertInReadme("basic");
    }

    [Fact]
    public void ShardingModelState_RunsAndIsInReadme()
    {
        // example:model-state:begin
        using var provider = new CpuProvider(deviceCount: 4);
        var dp = new DataParallel();
        Mesh mesh = new DeviceMeshManager(provider).CreateHybridMesh(dataParallelSize: 2, modelParallelSize: 2);
        Tree<HostArray> state = Tree.Dict<HostArray>(
            ("params", Tree.Dict(("kernel", HostArray.From(new float[784 * 512], 784, 512)))),
            ("step", HostArray.Scalar(0L)));                                           // optimizer state is a tree like any other
        Tree<GlobalArray> replicated = dp.ShardModelState(state, mesh);                // P() everywhere (default)
        Tree<GlobalArray> sharded = dp.ShardModelState(state, mesh, ParamSharding.Shard); // dim 0 over "data"; the step stays replicated
        Console.WriteLine(sharded["params"]["kernel"].Value.Shards[0].Shape[0]);      // 392
        replicated.DisposeLeaves();
        sharded.DisposeLeaves();
        // example:model-state:end
        AssertInReadme("model-state");
    }

    [Fact]
    public void GradientAggregation_RunsAndIsInReadme()
    {
        var results = new float[4];
        // example:gradients:begin
        using var provider = new CpuProvider(deviceCount: 4);
        var dp = new DataParallel();
        Mesh mesh = new DeviceMeshManager(provider).CreateDataParallelMesh(axisName: "batch");
        provider.RunSpmd(mesh, context =>                                              // shard_map over the mesh
        {
            float g = context.DeviceIndex + 1;                                         // per-device gradients 1, 2, 3, 4
            Tree<DeviceArray> grads = Tree.Dict<DeviceArray>(("w", DeviceArray.FromHost(context.Device, new HostArray<float>([g, 2 * g], 2))));
            Tree<DeviceArray> mean = dp.AllReduceGradients(grads);                     // mean over "batch": [2.5, 5] everywhere
            results[context.DeviceIndex] = mean["w"].Value.As<float>().ToArray()[0];
            mean.DisposeLeaves();
            grads.DisposeLeaves();
        });
        // example:gradients:end
        Assert.Equal([2.5f, 2.5f, 2.5f, 2.5f], results);
        AssertInReadme("gradients");
    }

    [Fact]
    public void ShardedAdam_RunsAndIsInReadme()
    {
        var replicas = new float[4][];
        // example:zero:begin
        using var provider = new CpuProvider(deviceCount: 4);
        var dp = new DataParallel();
        Mesh mesh = new DeviceMeshManager(provider).CreateDataParallelMesh();          // Mesh('data': 4)
        Tree<DeviceArray>[] weights = [.. mesh.Devices.Select(d => Tree.Dict<DeviceArray>(("w", DeviceArray.FromHost(d, new HostArray<float>(new float[10], 10)))))];
        ShardedAdam[] adam = [.. weights.Select((w, rank) => dp.CreateShardedAdam(w, rank, shardCount: 4))];
        Console.WriteLine($"{adam[0].StateBytes} of {adam[0].ReplicatedStateBytes}");  // "24 of 80": m and v for ⌈10/4⌉ = 3 elements
        provider.RunSpmd(mesh, context =>
        {
            float g = context.DeviceIndex + 1;                                         // per-device gradients
            Tree<DeviceArray> grads = Tree.Dict<DeviceArray>(("w", DeviceArray.FromHost(context.Device, new HostArray<float>([.. Enumerable.Repeat(g, 10)], 10))));
            adam[context.DeviceIndex].Step(grads, AdamStep.Default(1e-3f, step: 1), "data"); // reduce-scatter, Adam on 1/4, all-gather
            grads.DisposeLeaves();
        });
        // example:zero:end
        for (int r = 0; r < 4; r++)
        {
            replicas[r] = weights[r]["w"].Value.As<float>().ToArray();
        }

        // Adam's first step moves every weight by about the learning rate against the mean gradient's sign, on every device alike.
        Assert.All(replicas, w => Assert.Equal(replicas[0], w));
        Assert.All(replicas[0], v => Assert.InRange(v, -1.001e-3f, -0.999e-3f));
        Assert.Equal((24L, 80L), (adam[0].StateBytes, adam[0].ReplicatedStateBytes));
        foreach (ShardedAdam a in adam)
        {
            a.Dispose();
        }

        foreach (Tree<DeviceArray> w in weights)
        {
            w.DisposeLeaves();
        }

        Assert.Equal(0, provider.LiveBufferCount);
        AssertInReadme("zero");
    }

    [Fact]
    public void StaticMethods_RunAndAreInReadme()
    {
        // example:static:begin
        using var provider = new CpuProvider(deviceCount: 2);
        Mesh mesh = new DeviceMeshManager(provider).CreateDataParallelMesh();
        NamedSharding sharding = DataParallel.CreateDataParallelShardingStatic(mesh);
        Tree<GlobalArray> batch = DataParallel.ShardBatchStatic(Tree.Dict(("x", HostArray.From(new float[8], 4, 2))), sharding);
        provider.RunSpmd(mesh, context =>
        {
            using DeviceArray<float> g = DeviceArray.FromHost(context.Device, new HostArray<float>([1f], 1));
            Tree<DeviceArray> sum = DataParallel.AllReduceGradientsStatic(g, "sum", axisName: "data"); // [2] on both devices
            sum.DisposeLeaves();
        });
        batch.DisposeLeaves();
        // example:static:end
        Assert.Equal(0, provider.LiveBufferCount);
        AssertInReadme("static");
    }

    [Fact]
    public void SpmdRegion_RunsAndIsInReadme()
    {
        var means = new float[4];
        var sums = new float[4];
        // example:spmd:begin
        using var provider = new CpuProvider(deviceCount: 4);
        var mesh = new Mesh(provider.Devices, ("data", 4));
        provider.RunSpmd(mesh, context =>                       // once per device, each on its own worker thread
        {
            int rank = Collectives.AxisIndex("data");             // lax.axis_index: no context parameter needed
            using DeviceArray<float> g = DeviceArray.FromHost(context.Device, new HostArray<float>([rank + 1f], 1));
            using DeviceArray<float> mean = Collectives.Pmean(g, "data");   // 2.5 on every device
            Collectives.AllReduceInPlace(g, ReduceOp.Sum, "data");          // 10 on every device, allocates nothing

            // example:spmd:end
            means[rank] = mean.ToArray()[0];
            sums[rank] = g.ToArray()[0];
        });

        Assert.All(means, m => Assert.Equal(2.5f, m));
        Assert.All(sums, v => Assert.Equal(10f, v));
        AssertInReadme("spmd", closing: "});");
    }

    [Fact]
    public void ReproducibleMode_RunsAndIsInReadme()
    {
        var results = new float[4][];
        var meanResults = new float[4][];
        var contributionMeans = new float[4][];
        // example:reproducible:begin
        using var provider = new CpuProvider(deviceCount: 4);
        var mesh = new Mesh(provider.Devices, ("data", 4));
        provider.RunSpmd(mesh, context =>
        {
            int rank = context.DeviceIndex;
            using DeviceArray<float> g = DeviceArray.FromHost(context.Device, new HostArray<float>([0.1f * rank, 1e8f, -1e8f], 3));
            Collectives.AllReduceInPlace(g, ReduceOp.Mean, "data", Determinism.Reproducible);  // same bits for any order or split

            // Identical training for any device count: each device's fixed-size microbatch gradients, one block each,
            // reduced together: the mean over every device's blocks, rounded once.
            using DeviceArray<float> microbatches = DeviceArray.FromHost(context.Device, new HostArray<float>([1f, 2f, 3f, 4f, 5f, 6f], 6));
            using DeviceArray<float> mean = DeviceArray.Allocate<float>(context.Device, 3);
            Collectives.AllReduceContributions(microbatches, mean, ReduceOp.Mean, "data");  // 2 blocks × 4 devices: 2.5, 3.5, 4.5

            // The same, one contribution at a time, through a state you keep (e.g. to accumulate over several calls).
            using var state = ReproducibleSumState.Create(context.Device, length: 3);
            using DeviceArray first = microbatches.Slice(0, 3);
            state.Deposit(first.Buffer);                        // one call per contribution
            state.AllReduce("data");                            // exact merge over the axis
            using DeviceArray<float> output = DeviceArray.Allocate<float>(context.Device, 3);
            state.Finalize(output.Buffer, scale: 1.0 / 4);      // the one rounding: a mean over the 4 contributions: 1, 2, 3

            // example:reproducible:end
            results[rank] = output.ToArray();
            meanResults[rank] = g.ToArray();
            contributionMeans[rank] = mean.ToArray();
        });

        Assert.All(results, r => Assert.Equal([1f, 2f, 3f], r));
        Assert.All(contributionMeans, r => Assert.Equal([2.5f, 3.5f, 4.5f], r));
        Assert.All(meanResults, r => Assert.Equal(meanResults[0], r));
        Assert.Equal(0.15f, meanResults[0][0], 6);
        AssertInReadme("reproducible", closing: "});");
    }

    [Fact]
    public void GradientReducer_OverlapsAndIsInReadme()
    {
        var results = new float[2][];
        // example:overlap:begin
        using var provider = new CpuProvider(deviceCount: 2);
        var mesh = new Mesh(provider.Devices, ("data", 2));
        var dp = new DataParallel();
        Tree<DeviceArray>[] grads = [.. provider.Devices.Select(d => Tree.Dict<DeviceArray>(
            ("layer1", DeviceArray.Allocate<float>(d, 300_000)), ("layer2", DeviceArray.Allocate<float>(d, 10))))];
        GradientReducer[] reducers = [.. grads.Select(g => dp.CreateGradientReducer(g, "data"))];   // once per device
        provider.RunSpmd(mesh, context =>                                // every step
        {
            int k = context.DeviceIndex;
            DeviceArray layer1 = grads[k]["layer1"].Value, layer2 = grads[k]["layer2"].Value;
            provider.Kernels.Fill(layer2.Buffer, k + 1f);                // the backward pass writes layer 2 first...
            reducers[k].MarkReady(layer2);                               // ...its bucket's all-reduce starts now
            provider.Kernels.Fill(layer1.Buffer, 10f * (k + 1));         // layer 1's backward runs meanwhile
            reducers[k].MarkReady(layer1);
            reducers[k].Finish();                                        // the mean, in place: 1.5 and 15 on both
        });
        // example:overlap:end
        for (int k = 0; k < 2; k++)
        {
            results[k] = [grads[k]["layer1"].Value.As<float>().ToArray()[0], grads[k]["layer2"].Value.As<float>().ToArray()[0]];
            reducers[k].Dispose();
            grads[k].DisposeLeaves();
        }

        Assert.All(results, r => Assert.Equal([15f, 1.5f], r));
        AssertInReadme("overlap");
    }

    private static void AssertInReadme(string name, string? closing = null) =>
        ReadmeText.AssertExample(name, ["tests", "Artifex.Cpu.Tests", "ReadmeExamplesTests.cs"], closing);
}
