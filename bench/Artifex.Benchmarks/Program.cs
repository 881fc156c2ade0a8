using Artifex.Benchmarks;
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

BenchmarkSwitcher.FromAssembly(typeof(PlacementBenchmarks).Assembly).Run(args);
return 0;
