using Artifex.TestLogger;
using Microsoft.VisualStudio.TestPlatform.ObjectModel;
using TestResult = Microsoft.VisualStudio.TestPlatform.ObjectModel.TestResult;

namespace Artifex.Tests.Logging;

/// <summary>The failure text must stay what VSTest's console logger printed at minimal verbosity, line for line.</summary>
public sealed class ConsoleResultTextTests
{
    [Theory]
    [InlineData(0L, null)]
    [InlineData(5_000L, "< 1 ms")]
    [InlineData(120_000L, "12 ms")]
    [InlineData(32_000_000L, "3 s")]
    [InlineData(650_000_000L, "1 m 5 s")]
    [InlineData(74_640_000_000L, "2 h 4 m")]
    public void Durations_AreWrittenAsTheConsoleLoggerWritesThem(long ticks, string? expected) =>
        Assert.Equal(expected, ConsoleResultText.FormatDuration(TimeSpan.FromTicks(ticks)));

    [Fact]
    public void AFailure_ShowsItsNameMessageStackTraceAndOutput()
    {
        TestResult result = Failure("System.InvalidOperationException : boom" + Environment.NewLine + "second line", "   at A.B() in /x/A.cs:line 13");
        result.Messages.Add(new TestResultMessage(TestResultMessage.StandardOutCategory, $"line one{Environment.NewLine}line two{Environment.NewLine}"));

        Assert.Equal(
            [
                "  Failed Artifex.Tests.A.B(n: 2) [1 ms]",
                "  Error Message:",
                "   System.InvalidOperationException : boom" + Environment.NewLine + "second line",
                "  Stack Trace:",
                "     at A.B() in /x/A.cs:line 13",
                "  Standard Output Messages:",
                $" line one{Environment.NewLine} line two{Environment.NewLine}",
                string.Empty,
            ],
            ConsoleResultText.Failed(result).Select(line => line.Text),
            StringComparer.Ordinal);
    }

    [Fact]
    public void AFailureEndingInItsStackTrace_HasNoBlankLineAfterIt_AndOneWithoutItHas()
    {
        Assert.Equal(
            ["  Failed Artifex.Tests.A.B(n: 2) [1 ms]", "  Error Message:", "   Assert.True() Failure", "  Stack Trace:", "     at A.B()"],
            ConsoleResultText.Failed(Failure("Assert.True() Failure", "   at A.B()")).Select(line => line.Text),
            StringComparer.Ordinal);
        Assert.Equal(
            ["  Failed Artifex.Tests.A.B(n: 2) [1 ms]", "  Error Message:", "   Assert.True() Failure", string.Empty],
            ConsoleResultText.Failed(Failure("Assert.True() Failure", null)).Select(line => line.Text),
            StringComparer.Ordinal);
    }

    [Fact]
    public void AResultWithoutADisplayName_UsesItsTestCases()
    {
        TestResult result = Failure("x", null);
        result.DisplayName = null;
        result.Duration = TimeSpan.Zero;

        Assert.Equal("Artifex.Tests.A.B", ConsoleResultText.DisplayName(result));
    }

    private static TestResult Failure(string message, string? stackTrace) =>
        new(new TestCase("Artifex.Tests.A.B", new Uri("executor://xunit/test"), "/repo/Artifex.Tests.dll"))
        {
            DisplayName = "Artifex.Tests.A.B(n: 2)",
            Outcome = TestOutcome.Failed,
            Duration = TimeSpan.FromMilliseconds(1),
            ErrorMessage = message,
            ErrorStackTrace = stackTrace,
        };
}
