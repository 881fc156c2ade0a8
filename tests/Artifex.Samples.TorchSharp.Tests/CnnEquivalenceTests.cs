using Artifex.Cpu;
using Artifex.Samples.FashionMnist;
using Artifex.Testing;

namespace Artifex.Samples.TorchSharp.Tests;

/// <summary>
/// The CNN trained data-parallel over 2 and 4 emulated devices against 1 device on the same global batches, and two runs
/// against each other.
/// </summary>
public sealed class CnnEquivalenceTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Devices_TrainAsOneDeviceDoes_OnTheSameGlobalBatches(int devices)
    {
        LibTorch.Require();
        IReadOnlyList<(string Name, float[] Values)> single = Train(1), parallel = Train(devices);

        Assert.Equal(single.Select(static p => p.Name), parallel.Select(static p => p.Name), StringComparer.Ordinal);
        for (int p = 0; p < single.Count; p++)
        {
            float[] expected = single[p].Values, actual = parallel[p].Values;
            RelativeDifference.AssertWithin(expected, actual, 1e-5, single[p].Name);
        }
    }

    [Fact]
    public void TwoRuns_OnTwoDevices_GiveTheSameBits()
    {
        LibTorch.Require();
        IReadOnlyList<(string Name, float[] Values)> first = Train(2), second = Train(2);
        Assert.Equal(first.Select(static p => p.Values), second.Select(static p => p.Values));
    }

    /// <summary>One epoch of 8 Adam steps (512 images, global batch 64) over <paramref name="devices"/> devices; replica 0's parameters.</summary>
    /// <remarks>
    /// Few steps: the runs differ only by the rounding of sums split differently over the devices, and after many steps
    /// such differences grow (a ReLU or a max-pool's choice that flips), as they would between any two libtorch builds.
    /// </remarks>
    private static IReadOnlyList<(string Name, float[] Values)> Train(int devices)
    {
        TrainingOptions options = CnnApp.Defaults with { Devices = devices, Epochs = 1, BatchSize = 64, KernelThreads = 1 };
        Dataset data = SyntheticDataset.Create(options.Seed, trainCount: 512, testCount: 64);
        using var provider = new CpuProvider(deviceCount: devices);
        using var session = new CnnSession(provider, options, data);
        session.RunEpoch();
        Assert.True(session.ReplicasAgree());
        return session.Parameters();
    }
}
