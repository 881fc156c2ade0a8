using System.CommandLine;
using Artifex.Perf;

var root = new RootCommand("artifex-perf: nccl-tests-style collective benchmark for Artifex.NET, with the memory-traffic bound of each size measured in the same run.");
foreach (CollectiveKind kind in Enum.GetValues<CollectiveKind>())
{
    root.Subcommands.Add(PerfCommand.Create(kind));
}

root.Subcommands.Add(PlotCommand.Create());
return root.Parse(args).Invoke();
