using Microsoft.VisualStudio.TestPlatform.ObjectModel;
using Microsoft.VisualStudio.TestPlatform.ObjectModel.Client;
using Microsoft.VisualStudio.TestPlatform.ObjectModel.Logging;

namespace Artifex.TestLogger;

/// <summary>
/// A VSTest logger that reports skipped tests once per test assembly, grouped by reason (<see cref="SkipReport"/>),
/// instead of one line per test without its reason. It runs beside the console logger at quiet verbosity
/// (tests/Directory.Build.targets), which still prints the per-assembly "Passed!/Failed!" summary and errors but
/// nothing per test; this logger therefore prints what minimal verbosity printed besides skips: failed tests in the
/// console logger's words (<see cref="ConsoleResultText"/>) and warnings, less xUnit's one "[SKIP]" warning per
/// skipped test.
/// </summary>
[FriendlyName(FriendlyNameValue)]
[ExtensionUri(ExtensionUriValue)]
public sealed class GroupedSkipsLogger : ITestLoggerWithParameters
{
    /// <summary>The name to pass to <c>--logger</c> or <c>VSTestLogger</c>.</summary>
    public const string FriendlyNameValue = "GroupedSkips";

    /// <summary>The logger's identity for VSTest.</summary>
    public const string ExtensionUriValue = "logger://Artifex/TestLogger/GroupedSkips/v1";

    private readonly Lock _gate = new();
    private readonly SkipReport _skips = new();

    /// <summary>
    /// Whether <paramref name="message"/> is the warning xUnit's VSTest adapter sends for each skipped test
    /// ("[xUnit.net 00:00:02.31]     Some.Test(n: 2) [SKIP]"): the skip is already in the grouped report.
    /// </summary>
    public static bool IsPerTestSkipNotice(string? message) =>
        message is not null
        && message.StartsWith("[xUnit.net ", StringComparison.Ordinal)
        && message.TrimEnd().EndsWith(" [SKIP]", StringComparison.Ordinal);

    /// <inheritdoc />
    public void Initialize(TestLoggerEvents events, string testRunDirectory)
    {
        ArgumentNullException.ThrowIfNull(events);
        events.TestResult += OnTestResult;
        events.TestRunMessage += OnMessage;
        events.DiscoveryMessage += OnMessage;
        events.TestRunComplete += OnTestRunComplete;
    }

    /// <inheritdoc />
    public void Initialize(TestLoggerEvents events, Dictionary<string, string?> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Initialize(events, parameters.GetValueOrDefault(DefaultLoggerParameterNames.TestRunDirectory) ?? string.Empty);
    }

    private static void Write(IEnumerable<ConsoleLine> lines)
    {
        // Colour only on a terminal, as the console logger does; CI reads plain text.
        bool colored = !Console.IsOutputRedirected;
        foreach (ConsoleLine line in lines)
        {
            if (colored && line.Color is { } color)
            {
                Console.ForegroundColor = color;
                Console.Out.WriteLine(line.Text);
                Console.ResetColor();
            }
            else
            {
                Console.Out.WriteLine(line.Text);
            }
        }

        Console.Out.Flush();
    }

    private void OnTestResult(object? sender, TestResultEventArgs e)
    {
        TestResult result = e.Result;
        lock (_gate)
        {
            switch (result.Outcome)
            {
                case TestOutcome.Passed:
                    break;
                case TestOutcome.Skipped:
                    // xUnit's adapter puts the skip reason in the error message.
                    _skips.Add(result.TestCase.Source, result.ErrorMessage);
                    break;
                case TestOutcome.Failed:
                    Write(ConsoleResultText.Failed(result));
                    break;
                default:
                    Write([ConsoleResultText.NotRun(result)]);
                    break;
            }
        }
    }

    private void OnMessage(object? sender, TestRunMessageEventArgs e)
    {
        // Errors still reach the console logger at quiet verbosity, and informational messages did not show at minimal.
        if (e.Level != TestMessageLevel.Warning || IsPerTestSkipNotice(e.Message))
        {
            return;
        }

        lock (_gate)
        {
            Write([new ConsoleLine(e.Message ?? string.Empty, ConsoleColor.Yellow)]);
        }
    }

    private void OnTestRunComplete(object? sender, TestRunCompleteEventArgs e)
    {
        lock (_gate)
        {
            if (_skips.Count == 0)
            {
                return;
            }

            Write([new ConsoleLine(string.Empty), .. _skips.FormatLines().Select(line => new ConsoleLine(line, ConsoleColor.Yellow))]);
        }
    }
}
