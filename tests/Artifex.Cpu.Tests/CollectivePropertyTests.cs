using Artifex.Conformance;
using CsCheck;

namespace Artifex.Cpu.Tests;

/// <summary>
/// Every collective against the scalar reference, over generated device counts, lengths, ops, roots and values: CsCheck
/// shrinks a failure to the smallest case that still fails (fewest devices, shortest arrays, simplest values).
/// </summary>
public sealed class CollectivePropertyTests : IDisposable
{
    // One case at a time: the cases share one provider per device count, whose devices run one region at a time.
    private const int Iterations = 150;
    private readonly CpuProvider[] _providers = [.. Enumerable.Range(1, 4).Select(n => new CpuProvider(n))];

    /// <summary>Device count, per-device inputs of one length, op and root.</summary>
    private static readonly Gen<(int Devices, float[][] Inputs, ReduceOp Op, int Root)> s_cases =
        from devices in Gen.Int[1, 4]
        from blocks in Gen.Int[0, 40]
        from values in Gen.Float[-1e6f, 1e6f].Array[blocks * devices].Array[devices]
        from op in Gen.Int[0, 3]
        from root in Gen.Int[0, devices - 1]
        select (devices, values, (ReduceOp)op, root);

    public void Dispose()
    {
        foreach (CpuProvider provider in _providers)
        {
            provider.Dispose();
        }
    }

    [Fact]
    public void AllReduce_IsTheRankOrderedReduction() => s_cases.Sample(
        c => Check(c, (context, x) => Collectives.AllReduce(x, c.Op, "data"), (k, members) => CollectiveReference.Reduce(c.Inputs, members, c.Op)),
        iter: Iterations,
        threads: 1);

    [Fact]
    public void AllGather_IsTheConcatenationInRankOrder() => s_cases.Sample(
        c => Check(c, (context, x) => Collectives.AllGather(x, "data", tiled: true), (k, members) => [.. members.SelectMany(m => c.Inputs[m])]),
        iter: Iterations,
        threads: 1);

    [Fact]
    public void PsumScatter_IsEachRanksBlockOfTheSum() => s_cases.Sample(
        c => Check(c, (context, x) => Collectives.PsumScatter(x, "data"), (k, members) =>
        {
            int block = c.Inputs[0].Length / c.Devices;
            return CollectiveReference.Reduce(c.Inputs, members, ReduceOp.Sum).AsSpan(k * block, block).ToArray();
        }),
        iter: Iterations,
        threads: 1);

    [Fact]
    public void Broadcast_IsTheRootsInput() => s_cases.Sample(
        c => Check(c, (context, x) => Collectives.Broadcast(x, c.Root, "data"), (k, members) => c.Inputs[c.Root]),
        iter: Iterations,
        threads: 1);

    private void Check((int Devices, float[][] Inputs, ReduceOp Op, int Root) c, Func<SpmdContext, DeviceArray<float>, DeviceArray> collective, Func<int, int[], float[]> expected)
    {
        CpuProvider provider = _providers[c.Devices - 1];
        var mesh = new Mesh(provider.Devices, ("data", c.Devices));
        var results = new float[c.Devices][];
        provider.RunSpmd(mesh, context =>
        {
            int k = context.DeviceIndex;
            using DeviceArray<float> x = DeviceArray.FromHost(context.Device, new HostArray<float>(c.Inputs[k], c.Inputs[k].Length));
            using DeviceArray<float> y = collective(context, x).As<float>();
            results[k] = y.ToArray();
        });

        int[] members = [.. Enumerable.Range(0, c.Devices)];
        for (int k = 0; k < c.Devices; k++)
        {
            CollectiveReference.AssertBitEqual<float>(expected(k, members), results[k], $"device {k} of {c.Devices}");
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }
}
