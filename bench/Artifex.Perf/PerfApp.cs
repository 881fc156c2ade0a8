using System.CommandLine;

namespace Artifex.Perf;

/// <summary>
/// The tool's entry: builds the commands, refuses arguments that do not parse and runs the command. Every refusal of bad
/// input, here or in a command, goes through <see cref="Refuse"/>: one line and <see cref="BadInputExitCode"/>.
/// </summary>
internal static class PerfApp
{
    /// <summary>The exit code for bad arguments (1 means a wrong result).</summary>
    public const int BadInputExitCode = 2;

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("artifex-perf: nccl-tests-style collective benchmark for Artifex.NET, with the memory-traffic bound of each size measured in the same run.");
        foreach (CollectiveKind kind in Enum.GetValues<CollectiveKind>())
        {
            root.Subcommands.Add(PerfCommand.Create(kind, output, error));
        }

        root.Subcommands.Add(PlotCommand.Create(output, error));
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            return Refuse(error, $"{parsed.Errors[0].Message} (artifex-perf --help lists the commands and options)");
        }

        return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    /// <summary>Writes <c>artifex-perf: message</c> as one line and returns <see cref="BadInputExitCode"/>.</summary>
    public static int Refuse(TextWriter error, string message)
    {
        error.WriteLine($"artifex-perf: {message.ReplaceLineEndings(" ")}");
        return BadInputExitCode;
    }
}
