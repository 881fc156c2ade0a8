namespace Artifex.Samples.FashionMnist;

/// <summary>The sample's command-line options.</summary>
public sealed record TrainingOptions
{
    /// <summary>Gets the number of devices to train on.</summary>
    public int Devices { get; init; } = 2;

    /// <summary>Gets the number of epochs.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Gets the global batch size (divisible by <see cref="Devices"/>).</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Gets Adam's learning rate.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Gets the seed of the parameters and shuffles.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Gets the provider name: <c>cpu</c> or <c>cuda</c>.</summary>
    public string Provider { get; init; } = "cpu";

    /// <summary>Gets the folder with the four IDX files, or null for Debian's folder (then the synthetic data).</summary>
    public string? DataDirectory { get; init; }

    /// <summary>Gets a value indicating whether to train on the synthetic dataset even when the real files exist.</summary>
    public bool Synthetic { get; init; }

    /// <summary>Gets the folder the plot and the JSON summary go to.</summary>
    public string OutputDirectory { get; init; } = Path.Combine("artifacts", "fashion-mnist");

    /// <summary>Gets how many threads one device's GEMM may use (CPU provider).</summary>
    public int KernelThreads { get; init; } = 1;

    /// <summary>Gets a value indicating whether to train in reproducible mode (bitwise identical parameters for any device count).</summary>
    public bool Reproducible { get; init; }

    /// <summary>Gets the microbatch size of reproducible mode; it must divide every device's share of the batch.</summary>
    public int Microbatch { get; init; } = 32;

    /// <summary>Gets the ZeRO stage: 0 replicates Adam's state on every device, 1 shards it over the devices (ZeRO stage 1; same parameter bits).</summary>
    public int Zero { get; init; }

    /// <summary>Gets the number of training images to use (null: all).</summary>
    public int? TrainLimit { get; init; }

    /// <summary>Gets the number of test images to use (null: all).</summary>
    public int? TestLimit { get; init; }

    /// <summary>Gets how gradients travel: <c>none</c> (Single) or <c>half</c> (Half, DDP's fp16 compression).</summary>
    public string Compression { get; init; } = "none";

    /// <summary>Gets a file to write a Chrome-trace timeline of every step to (forward, backward, bucket all-reduces, Adam), or null.</summary>
    public string? TracePath { get; init; }

    /// <summary>Gets a file to write the trained parameters to (raw little-endian float32, leaves in tree order), or null.</summary>
    public string? SaveParameters { get; init; }
}
