using System.Text.Json.Serialization;

namespace Artifex.Samples.FashionMnist;

/// <summary>The JSON summary written at the end of a run.</summary>
public sealed record TrainingSummary
{
    /// <summary>Gets where the data came from.</summary>
    [JsonPropertyName("data")]
    public required string Data { get; init; }

    /// <summary>Gets the provider the run was asked for (<c>cpu</c>, <c>mpi</c> or <c>cuda</c>; an MPI run's devices are CPU devices).</summary>
    [JsonPropertyName("provider")]
    public required string Provider { get; init; }

    /// <summary>Gets the number of processes that trained together (more than 1 only under mpirun).</summary>
    [JsonPropertyName("processes")]
    public required int Processes { get; init; }

    /// <summary>Gets the device count.</summary>
    [JsonPropertyName("devices")]
    public required int Devices { get; init; }

    /// <summary>Gets the global batch size.</summary>
    [JsonPropertyName("batch_size")]
    public required int BatchSize { get; init; }

    /// <summary>Gets the learning rate.</summary>
    [JsonPropertyName("learning_rate")]
    public required float LearningRate { get; init; }

    /// <summary>Gets the seed.</summary>
    [JsonPropertyName("seed")]
    public required ulong Seed { get; init; }

    /// <summary>Gets a value indicating whether reproducible mode was on.</summary>
    [JsonPropertyName("reproducible")]
    public required bool Reproducible { get; init; }

    /// <summary>Gets how gradients travelled: <c>none</c> or <c>half</c>.</summary>
    [JsonPropertyName("compression")]
    public string Compression { get; init; } = "none";

    /// <summary>Gets the microbatch size of reproducible mode (0 when off).</summary>
    [JsonPropertyName("microbatch")]
    public required int Microbatch { get; init; }

    /// <summary>Gets the ZeRO stage: 0 when Adam's state is replicated on every device, 1 when it is sharded over them.</summary>
    [JsonPropertyName("zero")]
    public int Zero { get; init; }

    /// <summary>
    /// Gets the bytes of optimizer state (Adam's two moments) each device holds, divided by the device count with ZeRO
    /// stage 1; null (and left out of the JSON) where a run does not report it.
    /// </summary>
    [JsonPropertyName("optimizer_state_bytes_per_device")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? OptimizerStateBytesPerDevice { get; init; }

    /// <summary>Gets the optimizer steps taken.</summary>
    [JsonPropertyName("steps")]
    public required int Steps { get; init; }

    /// <summary>Gets the final test accuracy.</summary>
    [JsonPropertyName("test_accuracy")]
    public required double TestAccuracy { get; init; }

    /// <summary>Gets the final training accuracy (last epoch).</summary>
    [JsonPropertyName("train_accuracy")]
    public required double TrainAccuracy { get; init; }

    /// <summary>Gets the seconds spent in training steps, all epochs.</summary>
    [JsonPropertyName("train_seconds")]
    public required double TrainSeconds { get; init; }

    /// <summary>Gets the wall-clock seconds of the whole run, evaluation included.</summary>
    [JsonPropertyName("total_seconds")]
    public required double TotalSeconds { get; init; }

    /// <summary>Gets the training throughput over all epochs.</summary>
    [JsonPropertyName("samples_per_second")]
    public required double SamplesPerSecond { get; init; }

    /// <summary>Gets the checksum of the final parameters (SHA-256 prefix over their bits, tree order).</summary>
    [JsonPropertyName("parameter_checksum")]
    public required string ParameterChecksum { get; init; }

    /// <summary>Gets a value indicating whether every device ended with the same parameter bits.</summary>
    [JsonPropertyName("replicas_identical")]
    public required bool ReplicasIdentical { get; init; }

    /// <summary>Gets the per-epoch figures.</summary>
    [JsonPropertyName("epochs")]
    public required IReadOnlyList<EpochResult> Epochs { get; init; }
}
