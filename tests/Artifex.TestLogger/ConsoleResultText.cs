using System.Globalization;
using System.Text;
using Microsoft.VisualStudio.TestPlatform.ObjectModel;

namespace Artifex.TestLogger;

/// <summary>
/// The lines VSTest's console logger prints for a test result at its default (minimal) verbosity. The grouped-skips
/// setup runs that logger quietly, which drops these lines along with the per-test skipped ones, so
/// <see cref="GroupedSkipsLogger"/> prints them again, in the same words, for everything but skipped tests: a failure
/// reads exactly as it did before (name and duration, error message, stack trace, the test's output).
/// </summary>
public static class ConsoleResultText
{
    // The console logger's own prefixes: two spaces before a result or banner, one more before a message.
    private const string ResultPrefix = "  ";
    private const char MessagePrefix = ' ';

    /// <summary>The lines for a failed test: "  Failed NAME [DURATION]" and its full information.</summary>
    public static IReadOnlyList<ConsoleLine> Failed(TestResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        List<ConsoleLine> lines = [new($"{ResultPrefix}Failed {DisplayName(result)}", ConsoleColor.Red)];
        AddFullInformation(lines, result);
        return lines;
    }

    /// <summary>The line for a test that neither passed, failed nor was skipped (not run, not found).</summary>
    public static ConsoleLine NotRun(TestResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new ConsoleLine($"{ResultPrefix}Not Run {DisplayName(result)}", ConsoleColor.Yellow);
    }

    /// <summary>The result's display name (the test case's when the result has none) and its duration in brackets.</summary>
    public static string DisplayName(TestResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        string name = string.IsNullOrWhiteSpace(result.DisplayName) ? result.TestCase.DisplayName : result.DisplayName;
        string? duration = FormatDuration(result.Duration);
        return duration is null ? name : $"{name} [{duration}]";
    }

    /// <summary>
    /// A duration as the console logger writes it: "&lt; 1 ms", "12 ms", "3 s", "1 m 5 s", "2 h 3 m";
    /// <see langword="null"/> for a zero duration, which the console logger leaves out.
    /// </summary>
    public static string? FormatDuration(TimeSpan duration)
    {
        if (duration == TimeSpan.Zero)
        {
            return null;
        }

        List<string> parts = [];
        if (duration.Hours > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{duration.Hours} h"));
        }

        if (duration.Minutes > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{duration.Minutes} m"));
        }

        if (duration.Hours == 0)
        {
            if (duration.Seconds > 0)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{duration.Seconds} s"));
            }

            if (duration.Milliseconds > 0 && duration.Minutes == 0 && duration.Seconds == 0)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{duration.Milliseconds} ms"));
            }
        }

        return parts.Count == 0 ? "< 1 ms" : string.Join(' ', parts);
    }

    private static void AddFullInformation(List<ConsoleLine> lines, TestResult result)
    {
        // The console logger ends the block with a blank line only when its last part was the error message or the
        // standard output; the same rule keeps the spacing between failures as it was.
        bool blankLineAfter = false;
        if (!string.IsNullOrEmpty(result.ErrorMessage))
        {
            blankLineAfter = true;
            lines.Add(new($"{ResultPrefix}Error Message:", ConsoleColor.Red));
            lines.Add(new($"{ResultPrefix}{MessagePrefix}{result.ErrorMessage}", ConsoleColor.Red));
        }

        if (!string.IsNullOrEmpty(result.ErrorStackTrace))
        {
            blankLineAfter = false;
            lines.Add(new($"{ResultPrefix}Stack Trace:", ConsoleColor.Red));
            lines.Add(new($"{ResultPrefix}{result.ErrorStackTrace}", ConsoleColor.Red));
        }

        blankLineAfter = AddMessages(lines, result, TestResultMessage.StandardOutCategory, "Standard Output Messages:", null) ?? blankLineAfter;
        if (AddMessages(lines, result, TestResultMessage.StandardErrorCategory, "Standard Error Messages:", ConsoleColor.Red) is not null)
        {
            blankLineAfter = false;
        }

        if (AddMessages(lines, result, TestResultMessage.DebugTraceCategory, "Debug Traces Messages:", null) is not null)
        {
            blankLineAfter = false;
        }

        if (AddMessages(lines, result, TestResultMessage.AdditionalInfoCategory, "Additional Information Messages:", null) is not null)
        {
            blankLineAfter = false;
        }

        if (blankLineAfter)
        {
            lines.Add(new(string.Empty));
        }
    }

    /// <summary>
    /// Adds the banner and the messages of one category, each message's lines indented by one space; returns
    /// <see langword="null"/> when the result has no message of that category, <see langword="true"/> when it has.
    /// </summary>
    private static bool? AddMessages(List<ConsoleLine> lines, TestResult result, string category, string banner, ConsoleColor? color)
    {
        List<TestResultMessage> messages = [.. result.Messages.Where(message => string.Equals(message.Category, category, StringComparison.OrdinalIgnoreCase))];
        if (messages.Count == 0)
        {
            return null;
        }

        StringBuilder text = new();
        foreach (TestResultMessage message in messages)
        {
            string? indented = message.Text?.Replace(Environment.NewLine, Environment.NewLine + MessagePrefix, StringComparison.Ordinal).TrimEnd(' ');
            if (!string.IsNullOrWhiteSpace(indented))
            {
                text.Append(MessagePrefix).Append(indented);
            }
        }

        if (text.Length > 0)
        {
            lines.Add(new($"{ResultPrefix}{banner}", color));
            lines.Add(new(text.ToString(), color));
        }

        return true;
    }
}
