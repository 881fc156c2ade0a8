using Artifex.Perf;

namespace Artifex.Samples.Tests;

/// <summary><c>artifex-perf</c>, run in process: bad arguments end in one line and exit code 2 before anything is measured; figures that beat the bound are flagged.</summary>
public sealed class PerfAppTests
{
    [Theory]
    [InlineData("--minbytes '9999999999G' is not a size", "allreduce", "-b", "9999999999G")]
    [InlineData("--minbytes '9223372036854775807' is not a size", "allreduce", "-b", "9223372036854775807")]
    [InlineData("--maxbytes '1025G' is not a size", "allreduce", "-e", "1025G")]
    [InlineData("--maxbytes '4K' is below --minbytes '8K'", "allreduce", "-b", "8K", "-e", "4K")]
    [InlineData("--minbytes '9999999999G' is not a size", "plot", "-b", "9999999999G")]
    [InlineData("--stepfactor must be a finite number above 1, not 1.", "allreduce", "-f", "1")]
    [InlineData("--stepfactor must be a finite number above 1, not 1.", "plot", "-f", "1")]
    [InlineData("--stepfactor must be a finite number above 1, not 0.", "plot", "-f", "0")]
    [InlineData("--stepfactor must be a finite number above 1, not -2.", "plot", "-f", "-2")]
    [InlineData("--stepfactor must be a finite number above 1, not NaN.", "plot", "-f", "NaN")]
    [InlineData("--stepfactor must be a finite number above 1, not NaN.", "allreduce", "-f", "NaN")]
    [InlineData("--stepfactor 1.0001 makes", "plot", "-f", "1.0001")]
    [InlineData("--devices '2,x': 'x' is not a device count", "plot", "--devices", "2,x")]
    [InlineData("--devices '0': '0' is not a device count", "plot", "--devices", "0")]
    [InlineData("--devices '2,,4': '' is not a device count", "plot", "--devices", "2,,4")]
    [InlineData("--devices must be at least 1, not 0.", "allreduce", "-g", "0")]
    [InlineData("--iters must be at least 1, not 0.", "plot", "-n", "0")]
    [InlineData("--bogus", "allreduce", "--bogus")]
    [InlineData("Cannot parse argument 'x' for option '--devices'", "allreduce", "-g", "x")]
    public void Run_BadArgument_OneLineNamingItExitTwo(string expected, params string[] args)
    {
        (int code, string output, string[] errors) = Run(args);
        Assert.Equal(2, code);
        string error = Assert.Single(errors);
        Assert.StartsWith("artifex-perf: ", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, output);
    }

    [Fact]
    public void Row_FasterThanTheBound_FlaggedWithAWarning()
    {
        // 1 MiB in 0.01 µs against a bound of 267 µs: 2,673,000 % of the bound, which no real run can reach.
        var row = new ResultRow(1 << 20, 1 << 18, "float", "sum", 0.01, 1e5, 1e5, 0, 267.3, null);
        using var output = new StringWriter();
        Report.Row(row, withMpi: false, output);
        Report.Footer([row], output);
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(row.ExceedsBound);
        Assert.EndsWith("2673000%!", lines[0].TrimEnd(), StringComparison.Ordinal);
        Assert.StartsWith("# warning: 1048576 B ran at 2673000% of the bound", lines[1], StringComparison.Ordinal);
        Assert.Contains("not a trustworthy measurement", lines[1], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("# Above the bound      : 1 size(s)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(300.0, 267.3)]
    [InlineData(300.0, double.NaN)]
    public void Row_WithinOrWithoutABound_NotFlagged(double micros, double bound)
    {
        var row = new ResultRow(1 << 20, 1 << 18, "float", "sum", micros, 3.5, 3.5, 0, bound, null);
        using var output = new StringWriter();
        Report.Row(row, withMpi: false, output);
        Report.Footer([row], output);
        Assert.False(row.ExceedsBound);
        Assert.DoesNotContain("!", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("warning", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_Csv_HasTheExceedsBoundColumn()
    {
        string path = Path.Combine(Path.GetTempPath(), $"artifex-perf-{Guid.NewGuid():N}.csv");
        try
        {
            Report.Write(path, [new ResultRow(4096, 1024, "float", "sum", 0.01, 1, 1, 0, 2.0, null), new ResultRow(4096, 1024, "float", "sum", 4.0, 1, 1, 0, 2.0, null)]);
            string[] lines = File.ReadAllLines(path);
            Assert.Contains(",percent_of_bound,exceeds_bound,", lines[0], StringComparison.Ordinal);
            Assert.Contains(",true,", lines[1], StringComparison.Ordinal);
            Assert.Contains(",false,", lines[2], StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Run_OneSmallSize_WritesTheTableToTheGivenWriter()
    {
        (int code, string output, string[] errors) = Run(["allreduce", "-g", "2", "-b", "4K", "-e", "4K", "-n", "1", "-w", "0", "--warmup_seconds", "0"]);
        Assert.Equal(0, code);
        Assert.Empty(errors);
        Assert.Contains("# artifex-perf allreduce: provider cpu, 2 devices", output, StringComparison.Ordinal);
        Assert.Contains("# Out of bounds values : 0 OK", output, StringComparison.Ordinal);
    }

    private static (int Code, string Output, string[] Errors) Run(string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = PerfApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
