using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Artifex.Benchmarks.PlacementBenchmarks).Assembly).Run(args);
