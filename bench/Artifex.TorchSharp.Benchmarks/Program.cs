using Artifex.TorchSharp.Benchmarks;
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(TorchSharpStepBenchmarks).Assembly).Run(args);
return 0;
