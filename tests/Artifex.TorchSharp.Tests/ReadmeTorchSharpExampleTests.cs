using Artifex.Cpu;
using Artifex.Testing;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Artifex.TorchSharp.Tests;

/// <summary>The README's TorchSharp snippet: compiled and run here, and compared with README.md.</summary>
public sealed class ReadmeTorchSharpExampleTests
{
    [Fact]
    public void TorchSharpSnippet_TrainsTwoIdenticalReplicas_AndIsInReadme()
    {
        using Tensor images = randn(64, 784), labels = randint(0, 10, [64]);
        // example:torchsharp:begin
        using var provider = new CpuProvider(deviceCount: 2);
        using var ddp = new TorchDataParallel<Sequential>(
            new Mesh(provider.Devices, ("data", 2)),
            device => Sequential(Linear(784, 128), ReLU(), Linear(128, 10)).to(TorchDevices.ToTorch(device)));
        optim.Optimizer[] optimizers = [.. ddp.Replicas.Select(m => optim.Adam(m.parameters()))];
        ddp.Run(replica =>
        {
            using var scope = NewDisposeScope();
            Tensor loss = functional.cross_entropy(replica.Module.forward(replica.Shard(images)), replica.Shard(labels));
            optimizers[replica.LocalIndex].zero_grad();
            loss.backward();
            replica.SynchronizeGradients();                 // the mean gradient over both replicas, in place
            optimizers[replica.LocalIndex].step();
        });
        // example:torchsharp:end

        float[][] first = [.. ddp.Replicas[0].parameters().Select(static p => p.data<float>().ToArray())];
        float[][] second = [.. ddp.Replicas[1].parameters().Select(static p => p.data<float>().ToArray())];
        Assert.Equal(first, second);
        Assert.Equal(0, provider.LiveBufferCount);
        ReadmeText.AssertExample("torchsharp", ["tests", "Artifex.TorchSharp.Tests", "ReadmeTorchSharpExampleTests.cs"]);
    }
}
