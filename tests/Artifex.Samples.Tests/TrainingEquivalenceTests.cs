using Artifex.Cpu;
using Artifex.Samples.FashionMnist;

namespace Artifex.Samples.Tests;

/// <summary>The sample's correctness promises: N devices train like one on the same global batches, and runs repeat bit for bit.</summary>
public sealed class TrainingEquivalenceTests
{
    private const int Batch = 64;
    private const int Steps = 6;
    private static readonly Dataset s_data = SyntheticDataset.Create(seed: 7, trainCount: Batch * Steps, testCount: 100);

    /// <summary>
    /// The relative difference is measured per leaf in the 2-norm, ‖p_N − p_1‖ / ‖p_1‖. Element-wise it can be larger for a
    /// handful of weights: where a gradient is a near-total cancellation, the summation order (per-device means, then their
    /// mean) changes its rounding, and Adam's normalization m/√v turns that into a visible step. The max element-wise
    /// difference is still bounded here, at 1e-3 of the largest weight (a few percent of one learning-rate step).
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void NDevices_MatchOneDevice_WithinOneInAHundredThousand(int devices)
    {
        float[][] single = Train(1, threads: 1, out _);
        float[][] parallel = Train(devices, threads: 1, out _);
        string[] names = ["dense1/bias", "dense1/kernel", "dense2/bias", "dense2/kernel"];
        for (int leaf = 0; leaf < single.Length; leaf++)
        {
            double norm = Math.Sqrt(single[leaf].Sum(v => (double)v * v));
            double distance = Math.Sqrt(single[leaf].Zip(parallel[leaf], (a, b) => ((double)a - b) * ((double)a - b)).Sum());
            double largest = single[leaf].Max(v => Math.Abs((double)v));
            double worst = single[leaf].Zip(parallel[leaf], (a, b) => Math.Abs((double)a - b)).Max();
            Assert.True(distance <= 1e-5 * norm, $"{names[leaf]}: ‖Δ‖ / ‖p‖ = {distance / norm:E3} after {Steps} steps on {devices} devices.");
            Assert.True(worst <= 1e-3 * largest, $"{names[leaf]}: max |Δ| = {worst:E3} against max |p| = {largest:E3}.");
        }
    }

    [Fact]
    public void Parameters_ActuallyMove()
    {
        float[][] trained = Train(2, threads: 1, out _);
        Tree<HostArray> initial = MlpParameters.Initialize(42);
        float[] before = initial["dense1"]["kernel"].Value.As<float>().Span.ToArray();
        Assert.NotEqual(before, trained[1]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void TwoRuns_GiveBitwiseIdenticalChecksums(int devices)
    {
        Train(devices, threads: 1, out string first);
        Train(devices, threads: 1, out string second);
        Assert.Equal(first, second);
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(1, 3)]
    [InlineData(2, 3)]
    public void GemmThreadCount_DoesNotChangeTheChecksum(int devices, int threads)
    {
        Train(devices, threads: 1, out string oneThread);
        Train(devices, threads, out string manyThreads);
        Assert.Equal(oneThread, manyThreads);
    }

    /// <summary>ZeRO stage 1 reduce-scatters with the same rank-order mean and runs the same Adam kernel on each shard, so the bits do not change.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void ZeroStage1_GivesTheChecksumOfReplicatedAdam(int devices)
    {
        Train(devices, threads: 1, out string replicated);
        Train(devices, threads: 1, out string zero, zeroStage: 1);
        Assert.Equal(replicated, zero);
    }

    [Fact]
    public void ZeroStage1_RefusesReproducibleModeAndOtherStages()
    {
        using var provider = new CpuProvider(2);
        ArgumentException e = Assert.Throws<ArgumentException>(() => new MlpTrainer(provider, 2, Batch, 1e-3f, 1, microbatch: 8, zeroStage: 1));
        Assert.Contains("--zero 1 and --reproducible exclude each other", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MlpTrainer(provider, 2, Batch, 1e-3f, 1, zeroStage: 2));
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void ReproducibleMode_GivesTheSameBitsForOneTwoFourAndEightDevices()
    {
        string[] checksums = [.. new[] { 1, 2, 4, 8 }.Select(devices => TrainReproducibly(devices, threads: 1))];
        Assert.All(checksums, c => Assert.Equal(checksums[0], c));
        Assert.Equal(checksums[0], TrainReproducibly(2, threads: 3));
    }

    [Fact]
    public void ReproducibleMode_DiffersFromTheOrdinaryStep_AndStillLearns()
    {
        Train(2, threads: 1, out string ordinary);
        Assert.NotEqual(ordinary, TrainReproducibly(2, threads: 1), StringComparer.Ordinal);
    }

    [Fact]
    public void ReproducibleMode_RejectsAMicrobatchThatDoesNotDivideTheLocalBatch()
    {
        using var provider = new CpuProvider(2);
        ArgumentException e = Assert.Throws<ArgumentException>(() => new MlpTrainer(provider, 2, Batch, 1e-3f, 1, microbatch: 12));
        Assert.Contains("--microbatch 12 does not divide the 32 rows", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void Session_ReportsEpochs_KeepsReplicasIdentical_AndFreesEverything()
    {
        using var provider = new CpuProvider(2);
        var options = new TrainingOptions { Devices = 2, Epochs = 2, BatchSize = Batch, Seed = 3 };
        TrainingSummary summary = TrainingSession.Run(provider, options, s_data);
        Assert.Equal(2, summary.Epochs.Count);
        Assert.Equal(2 * Steps, summary.Steps);
        Assert.True(summary.ReplicasIdentical);
        Assert.All(summary.Epochs, e => Assert.InRange(e.TestAccuracy, 0, 1));
        Assert.All(summary.Epochs, e => Assert.True(double.IsFinite(e.TrainLoss) && e.TrainLoss > 0));
        Assert.True(summary.Epochs[1].TrainLoss < summary.Epochs[0].TrainLoss, "The loss should fall on separable synthetic data.");
        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void Trainer_RejectsABatchTheDevicesCannotSplit()
    {
        using var provider = new CpuProvider(3);
        ArgumentException e = Assert.Throws<ArgumentException>(() => new MlpTrainer(provider, 3, 64, 1e-3f, 1));
        Assert.Contains("--batch-size 64 is not divisible by --devices 3", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, provider.LiveBufferCount);
    }

    private static string TrainReproducibly(int devices, int threads)
    {
        using var provider = new CpuProvider(new CpuProviderOptions { DeviceCount = devices, KernelThreads = threads });
        string checksum;
        using (var trainer = new MlpTrainer(provider, devices, Batch, 1e-3f, 42, microbatch: 8))
        {
            int[] order = [.. Enumerable.Range(0, s_data.TrainCount)];
            for (int s = 0; s < Steps; s++)
            {
                trainer.Step(s_data, order.AsSpan(s * Batch, Batch));
            }

            Assert.True(trainer.ReplicasAgree());
            checksum = trainer.Checksum();
        }

        Assert.Equal(0, provider.LiveBufferCount);
        return checksum;
    }

    private static float[][] Train(int devices, int threads, out string checksum, int zeroStage = 0)
    {
        using var provider = new CpuProvider(new CpuProviderOptions { DeviceCount = devices, KernelThreads = threads });
        float[][] leaves;
        using (var trainer = new MlpTrainer(provider, devices, Batch, 1e-3f, 42, zeroStage: zeroStage))
        {
            int[] order = [.. Enumerable.Range(0, s_data.TrainCount)];
            for (int s = 0; s < Steps; s++)
            {
                trainer.Step(s_data, order.AsSpan(s * Batch, Batch));
            }

            checksum = trainer.Checksum();
            Assert.True(trainer.ReplicasAgree());
            leaves = [.. trainer.ParametersToHost().Leaves().Select(h => h.As<float>().Span.ToArray())];
        }

        Assert.Equal(0, provider.LiveBufferCount);
        return leaves;
    }
}
