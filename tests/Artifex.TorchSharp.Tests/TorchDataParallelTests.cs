using Artifex.Cpu;
using Artifex.Testing;
using TorchSharp;
using static TorchSharp.torch.nn;

namespace Artifex.TorchSharp.Tests;

/// <summary>
/// The DDP wrapper on emulated CPU devices: 2 and 4 replicas train as 1 does on the same global batches (SGD and Adam),
/// runs repeat bit for bit, and NoSync accumulates locally.
/// </summary>
public sealed class TorchDataParallelTests
{
    private const int Steps = 5;

    [Theory]
    [InlineData("sgd", 2)]
    [InlineData("sgd", 4)]
    [InlineData("adam", 2)]
    [InlineData("adam", 4)]
    public void Replicas_TrainAsOneDeviceDoes_OnTheSameGlobalBatches(string optimizer, int devices)
    {
        float[][] single = Train(optimizer, 1);
        float[][] parallel = Train(optimizer, devices);

        Assert.Equal(single.Length, parallel.Length);
        for (int p = 0; p < single.Length; p++)
        {
            RelativeDifference.AssertWithin(single[p], parallel[p], 1e-5, $"parameter {p}");
        }
    }

    [Fact]
    public void TwoRuns_OnFourDevices_GiveTheSameBits()
    {
        float[][] first = Train("adam", 4), second = Train("adam", 4);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Construction_CopiesReplicaZerosParameters_ToEveryReplica()
    {
        using var provider = new CpuProvider(deviceCount: 3);
        int created = 0;
        using var ddp = new TorchDataParallel<Module<torch.Tensor, torch.Tensor>>(
            new Mesh(provider.Devices, ("data", 3)),
            device =>
            {
                torch.manual_seed(100 + created++); // a different initialisation per replica
                return Sequential(Linear(4, 2));
            });

        float[] zero = Parameters(ddp.Replicas[0]).SelectMany(static p => p).ToArray();
        Assert.All(ddp.Replicas, replica => Assert.Equal(zero, Parameters(replica).SelectMany(static p => p).ToArray()));
    }

    [Fact]
    public void NoSync_GradientsStayLocal_TheNextSynchronisationAveragesThem()
    {
        using var provider = new CpuProvider(deviceCount: 2);
        using var ddp = new TorchDataParallel<Module<torch.Tensor, torch.Tensor>>(new Mesh(provider.Devices, ("data", 2)), TinyModel.Create);
        (torch.Tensor x, torch.Tensor y) = TinyModel.Batch(0);
        var gradients = new float[2][];
        using (ddp.NoSync())
        {
            ddp.Run(replica =>
            {
                using torch.Tensor rows = replica.Shard(x), labels = replica.Shard(y);
                using torch.Tensor loss = functional.cross_entropy(replica.Module.forward(rows), labels);
                loss.backward();
                replica.SynchronizeGradients();
                gradients[replica.LocalIndex] = Gradients(replica.Module);
            });
            Assert.Throws<InvalidOperationException>(() => ddp.Run(_ => ddp.NoSync()));
        }

        Assert.NotEqual(gradients[0], gradients[1]);
        float[] mean = [.. gradients[0].Zip(gradients[1]).Select(static g => (g.First + g.Second) / 2)];
        ddp.Run(replica =>
        {
            replica.SynchronizeGradients();
            gradients[replica.LocalIndex] = Gradients(replica.Module);
        });
        Assert.Equal(mean, gradients[0]);
        Assert.Equal(mean, gradients[1]);
        x.Dispose();
        y.Dispose();
    }

    [Fact]
    public void Replicas_WithDifferentParameters_AreRefusedNamingTheDifference()
    {
        using var provider = new CpuProvider(deviceCount: 2);
        ArgumentException error = Assert.Throws<ArgumentException>(() => new TorchDataParallel<Module<torch.Tensor, torch.Tensor>>(
            new Mesh(provider.Devices, ("data", 2)),
            device => Sequential(Linear(4, device.Id == 0 ? 2 : 3))));
        Assert.Contains("differ: '0.weight' Float32[2, 4] vs '0.weight' Float32[3, 4]", error.Message, StringComparison.Ordinal);
        Assert.Equal("createReplica", error.ParamName);
    }

    /// <summary>Trains <see cref="Steps"/> steps over <paramref name="devices"/> replicas and returns replica 0's parameters.</summary>
    private static float[][] Train(string optimizer, int devices)
    {
        using var provider = new CpuProvider(deviceCount: devices);
        using var ddp = new TorchDataParallel<Module<torch.Tensor, torch.Tensor>>(new Mesh(provider.Devices, ("data", devices)), TinyModel.Create);
        torch.optim.Optimizer[] optimizers = [.. ddp.Replicas.Select(m => string.Equals(optimizer, "sgd", StringComparison.Ordinal) ? torch.optim.SGD(m.parameters(), 0.1) : (torch.optim.Optimizer)torch.optim.Adam(m.parameters(), 0.01))];
        for (int step = 0; step < Steps; step++)
        {
            (torch.Tensor x, torch.Tensor y) = TinyModel.Batch(step);
            using (x)
            using (y)
            {
                ddp.Run(replica =>
                {
                    using torch.Tensor rows = replica.Shard(x), labels = replica.Shard(y);
                    optimizers[replica.LocalIndex].zero_grad();
                    using torch.Tensor loss = functional.cross_entropy(replica.Module.forward(rows), labels);
                    loss.backward();
                    replica.SynchronizeGradients();
                    optimizers[replica.LocalIndex].step();
                });
            }
        }

        float[][] parameters = Parameters(ddp.Replicas[0]);
        foreach (torch.optim.Optimizer o in optimizers)
        {
            o.Dispose();
        }

        Assert.Equal(0, provider.LiveBufferCount);
        return parameters;
    }

    private static float[][] Parameters(Module module) => [.. module.parameters().Select(static p => p.data<float>().ToArray())];

    private static float[] Gradients(Module module) => [.. module.parameters().SelectMany(static p =>
    {
        using torch.Tensor g = p.grad!;
        return g.data<float>().ToArray();
    })];
}
