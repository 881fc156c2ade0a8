using Artifex.Benchmarks;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

if (args.Length > 0 && string.Equals(args[0], "sweep", StringComparison.Ordinal))
{
    return CollectiveSweep.Run(args[1..]);
}

if (args.Length > 0 && string.Equals(args[0], "gemm", StringComparison.Ordinal))
{
    return GemmSweep.Run();
}

if (args.Length > 0 && string.Equals(args[0], "train", StringComparison.Ordinal))
{
    return TrainingComparison.Run();
}

if (args.Length > 0 && string.Equals(args[0], "zero", StringComparison.Ordinal))
{
    return ZeroComparison.Run();
}

// BenchmarkDotNet builds a generated project per run; its default two-minute build limit failed runs on a busy machine
// that were otherwise fine. A build that takes longer than this is broken, not slow.
IConfig config = ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(20));
BenchmarkSwitcher.FromAssembly(typeof(PlacementBenchmarks).Assembly).Run(args, config);
return 0;
