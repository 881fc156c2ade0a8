using System.Globalization;

namespace Artifex.Mpi.Tests;

/// <summary>How a launched job ended: its exit code, what it printed, and how long it took.</summary>
/// <param name="ExitCode">The exit code of mpirun (or of the worker, without mpirun).</param>
/// <param name="Output">Everything on stdout.</param>
/// <param name="Error">Everything on stderr.</param>
/// <param name="Elapsed">The wall time from start to exit.</param>
internal sealed record MpiJobResult(int ExitCode, string Output, string Error, TimeSpan Elapsed)
{
    /// <summary>For assertion messages: the code, the time and both streams.</summary>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"exit code {ExitCode} after {Elapsed.TotalSeconds:0.00} s{Environment.NewLine}--- stdout ---{Environment.NewLine}{Output}--- stderr ---{Environment.NewLine}{Error}");
}
