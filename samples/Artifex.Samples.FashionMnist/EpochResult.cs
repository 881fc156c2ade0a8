namespace Artifex.Samples.FashionMnist;

/// <summary>What one epoch measured.</summary>
/// <param name="Epoch">The 1-based epoch.</param>
/// <param name="TrainLoss">The mean training loss over the epoch's batches (each measured before its update).</param>
/// <param name="TrainAccuracy">The training accuracy over the same batches.</param>
/// <param name="TestLoss">The mean test loss after the epoch.</param>
/// <param name="TestAccuracy">The test accuracy after the epoch.</param>
/// <param name="SamplesPerSecond">Training throughput: images per second of training steps (evaluation excluded).</param>
/// <param name="TrainSeconds">Seconds spent in training steps.</param>
public sealed record EpochResult(int Epoch, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy, double SamplesPerSecond, double TrainSeconds);
