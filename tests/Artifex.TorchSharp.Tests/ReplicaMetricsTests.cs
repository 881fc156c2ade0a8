using Artifex.Cpu;
using TorchSharp;
using static TorchSharp.torch.nn;

namespace Artifex.TorchSharp.Tests;

/// <summary>DistributedMetrics' reductions on tensors, from inside the replicas' steps: exact on small integers, new tensors, inputs unchanged.</summary>
public sealed class ReplicaMetricsTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Reductions_OverTheReplicas_AreExact_AndLeaveTheInputsAlone(int n)
    {
        using var provider = new CpuProvider(deviceCount: n);
        using var ddp = new TorchDataParallel<Module<torch.Tensor, torch.Tensor>>(new Mesh(provider.Devices, ("data", n)), _ => Sequential(Linear(2, 1)));
        var results = new float[n][][];
        var inputs = new float[n][];
        ddp.Run(replica =>
        {
            float r = replica.Rank;
            using torch.Tensor value = torch.tensor(new[] { r + 1, -r, 2 * r }).requires_grad_();
            using torch.Tensor sum = replica.Psum(value), mean = replica.Pmean(value), max = replica.Pmax(value), min = replica.Pmin(value), all = replica.AllGather(value);
            results[replica.LocalIndex] = [sum.data<float>().ToArray(), mean.data<float>().ToArray(), max.data<float>().ToArray(), min.data<float>().ToArray(), all.data<float>().ToArray(), [.. all.shape.Select(static d => (float)d)]];
            inputs[replica.LocalIndex] = value.data<float>().ToArray();
        });

        float total = n * (n + 1) / 2f, ranks = n * (n - 1) / 2f;
        float[] gathered = [.. Enumerable.Range(0, n).SelectMany(static r => new[] { r + 1f, -r, 2f * r })];
        Assert.All(results, r =>
        {
            Assert.Equal([total, -ranks, 2 * ranks], r[0]);
            Assert.Equal([total / n, -ranks / n, 2 * ranks / n], r[1]);
            Assert.Equal([n, 0f, 2f * (n - 1)], r[2]);
            Assert.Equal([1f, -(n - 1f), 0f], r[3]);
            Assert.Equal(gathered, r[4]);
            Assert.Equal([n, 3f], r[5]);
        });
        Assert.All(Enumerable.Range(0, n), r => Assert.Equal([r + 1f, -r, 2f * r], inputs[r]));
        Assert.Equal(0, provider.LiveBufferCount);
    }
}
