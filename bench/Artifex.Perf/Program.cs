using System.CommandLine;
using Artifex.Perf;

var root = new RootCommand("artifex-perf: nccl-tests-style collective benchmark for Artifex.NET, with the memory-traffic bound of each size measured in the same run.");
foreach (CollectiveKind kind in Enum.GetValues<CollectiveKind>())
{
    root.Subcommands.Add(PerfCommand.Create(kind));
}

root.Subcommands.Add(PlotCommand.Create());
ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // Bad arguments: a clear message and exit code 2, as for values the commands reject themselves.
    foreach (System.CommandLine.Parsing.ParseError error in parsed.Errors)
    {
        Console.Error.WriteLine($"artifex-perf: {error.Message}");
    }

    Console.Error.WriteLine("Run 'artifex-perf --help' for the commands and options.");
    return 2;
}

return parsed.Invoke();
