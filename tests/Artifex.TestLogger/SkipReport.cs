using System.Globalization;

namespace Artifex.TestLogger;

/// <summary>
/// Counts skipped tests by test assembly and reason, and formats one block per assembly, largest group first:
/// <code>
/// Skipped 500 tests in Artifex.Cuda.Tests.dll:
///   480  No usable GPU: libcuda.so.1 not found
///    20  Needs 2 GPUs; this machine has 0.
/// </code>
/// A reason is what a reader acts on (install a GPU, mpirun, clang), and hundreds of tests share a few of them, so one
/// line per reason says more than one line per test.
/// </summary>
public sealed class SkipReport
{
    /// <summary>The reason shown for tests skipped without one.</summary>
    public const string NoReason = "(no reason given)";

    private readonly Dictionary<string, Dictionary<string, int>> _countsBySource = new(StringComparer.Ordinal);

    // Blocks come out in the order their assemblies first skipped a test, which is stable for one assembly per run.
    private readonly List<string> _sources = [];

    /// <summary>The number of skipped tests added, over every assembly.</summary>
    public int Count { get; private set; }

    /// <summary>Adds one skipped test of the assembly at <paramref name="source"/>, skipped for <paramref name="reason"/>.</summary>
    public void Add(string source, string? reason)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!_countsBySource.TryGetValue(source, out Dictionary<string, int>? counts))
        {
            counts = new Dictionary<string, int>(StringComparer.Ordinal);
            _countsBySource.Add(source, counts);
            _sources.Add(source);
        }

        string key = Normalize(reason);
        counts[key] = counts.GetValueOrDefault(key) + 1;
        Count++;
    }

    /// <summary>
    /// The report's lines: for each assembly, a header line and one line per reason, the count right-aligned; a blank
    /// line between assemblies. Empty when nothing was skipped.
    /// </summary>
    public IReadOnlyList<string> FormatLines()
    {
        List<string> lines = [];
        foreach (string source in _sources)
        {
            if (lines.Count > 0)
            {
                lines.Add(string.Empty);
            }

            Dictionary<string, int> counts = _countsBySource[source];
            int total = counts.Values.Sum();
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"Skipped {total} {(total == 1 ? "test" : "tests")} in {Path.GetFileName(source)}:"));

            int width = counts.Values.Max().ToString(CultureInfo.InvariantCulture).Length;
            string indent = new(' ', 2 + width + 2);
            foreach ((string reason, int count) in counts.OrderByDescending(pair => pair.Value).ThenBy(pair => pair.Key, StringComparer.Ordinal))
            {
                string[] reasonLines = reason.Split('\n');
                lines.Add($"  {count.ToString(CultureInfo.InvariantCulture).PadLeft(width)}  {reasonLines[0]}");

                // A reason of several lines keeps its later lines under its first, clear of the count column.
                lines.AddRange(reasonLines.Skip(1).Select(line => indent + line));
            }
        }

        return lines;
    }

    private static string Normalize(string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            return NoReason;
        }

        return reason.Replace("\r\n", "\n", StringComparison.Ordinal).Trim();
    }
}
