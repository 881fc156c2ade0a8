using Artifex.Benchmarks;
using BenchmarkDotNet.Running;

if (args.Length > 0 && string.Equals(args[0], "sweep", StringComparison.Ordinal))
{
    return CollectiveSweep.Run(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(PlacementBenchmarks).Assembly).Run(args);
return 0;
