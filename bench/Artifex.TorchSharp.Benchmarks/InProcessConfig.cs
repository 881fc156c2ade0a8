using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Artifex.TorchSharp.Benchmarks;

/// <summary>
/// Runs the benchmarks in this process: the generated project BenchmarkDotNet would otherwise build gets an unchanged copy
/// of libLibTorchSharp.so (the build step that makes it load on Debian 12 runs in this project's build only).
/// </summary>
public sealed class InProcessConfig : ManualConfig
{
    /// <summary>Initializes the configuration: the default job (or the command line's), in process.</summary>
    public InProcessConfig() => AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).AsDefault());
}
