using System.Text.Json;
using Artifex.Cpu;
using Artifex.Perf;

namespace Artifex.Samples.Tests;

/// <summary>
/// <c>artifex-perf</c>, run in process: bad arguments end in one line and exit code 2 before anything is measured; figures
/// that beat the bound are flagged; every size is measured and checked out of place and in place, and a wrong result of
/// either mode is counted in its own column and fails the run.
/// </summary>
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
        Assert.Contains(" 2673000%! ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("# warning: 1048576 B ran at 2673000% of the bound out of place,", lines[1], StringComparison.Ordinal);
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
            Assert.EndsWith(",mpi_us,inplace_time_us,inplace_algbw_gbs,inplace_busbw_gbs,inplace_wrong,inplace_percent_of_bound", lines[0], StringComparison.Ordinal);
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

    [Fact]
    public void Row_InPlaceFasterThanTheBound_WarningNamesTheMode()
    {
        var row = new ResultRow(1 << 20, 1 << 18, "float", "sum", 300, 3.5, 3.5, 0, 267.3, null, InPlaceTimeMicros: 0.01, InPlaceAlgBandwidth: 1e5, InPlaceBusBandwidth: 1e5);
        using var output = new StringWriter();
        Report.Row(row, withMpi: false, output);
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(row.ExceedsBound);
        Assert.Contains(" 89%  ", lines[0], StringComparison.Ordinal);
        Assert.Contains(" 2673000%! ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("# warning: 1048576 B ran at 2673000% of the bound in place,", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Row_InPlaceNotMeasured_NotApplicableAndLeftOutOfTheAverage()
    {
        var row = new ResultRow(1 << 20, 1 << 18, "float", "sum", 300, 3.5, 3.5, 0, 267.3, null);
        using var output = new StringWriter();
        Report.Row(row, withMpi: false, output);
        Report.Footer([row], output);
        string[] fields = output.ToString().Split('\n')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.False(row.HasInPlace);
        Assert.Equal(["n/a", "n/a", "n/a", "n/a", "n/a", "267.30"], fields[^6..]);
        Assert.Contains("# Avg bus bandwidth    : 3.500", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AllReduce")]
    [InlineData("AllGather")]
    [InlineData("ReduceScatter")]
    [InlineData("Broadcast")]
    public void Run_EachCollective_BothModesMeasuredAndRight(string kind)
    {
        // Three devices, so that in place the slots of the views start at offsets other than 0 and half the buffer.
        using var provider = new CpuProvider(3);
        ResultRow row = new CollectiveBench(Settings(kind, 3), provider).Run(3 * 4 * 256);
        Assert.True(row.HasOutOfPlace);
        Assert.True(row.HasInPlace);
        Assert.Equal(0, row.Wrong);
        Assert.Equal(0, row.InPlaceWrong);
    }

    [Theory]
    [InlineData("AllReduce", 2 * 1024)]
    [InlineData("AllGather", 2 * 1024)]
    [InlineData("ReduceScatter", 2 * 512)]
    [InlineData("Broadcast", 2 * 1024)]
    public void Run_InPlaceResultWrong_CountedInTheInPlaceColumnAndFails(string kind, long expectedWrong)
    {
        // A runtime that clears its output before reading its input: harmless out of place, but in place it destroys this
        // rank's input (the output, or the output's slot that the input is), so every result element is wrong.
        using var provider = new CpuProvider(2);
        var bench = new CollectiveBench(Settings(kind, 2), provider)
        {
            BeforeStep = static (_, output) => output.As<float>().CopyFrom(new float[output.Length]),
        };
        ResultRow row = bench.Run(4096);
        Assert.Equal(0, row.Wrong);
        Assert.Equal(expectedWrong, row.InPlaceWrong);
        using var output = new StringWriter();
        Report.Row(row, withMpi: false, output);
        Report.Footer([row], output);
        string[] fields = output.ToString().Split('\n')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("0", fields[7]);
        Assert.Equal(expectedWrong.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[12]);
        Assert.Contains($"# Out of bounds values : {expectedWrong} FAILED", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, PerfRun.ExitCode([row]));
    }

    [Fact]
    public void Run_HostForm_OutOfPlaceNotApplicable()
    {
        // AllReduceShards reduces the shards where they are: there is nothing out of place to measure.
        using var provider = new CpuProvider(2);
        ResultRow row = new CollectiveBench(Settings(CollectiveKind.AllReduce, 2) with { HostIssued = true }, provider).Run(4096);
        Assert.False(row.HasOutOfPlace);
        Assert.True(row.HasInPlace);
        Assert.Equal(0, row.TotalWrong);
    }

    [Fact]
    public void Run_ReproducibleSum_InPlaceNotApplicable()
    {
        // Repeated in place, a sum multiplies the values by N each call and leaves the reproducible window.
        using var provider = new CpuProvider(2);
        ResultRow row = new CollectiveBench(Settings(CollectiveKind.AllReduce, 2) with { Determinism = Determinism.Reproducible }, provider).Run(4096);
        Assert.True(row.HasOutOfPlace);
        Assert.False(row.HasInPlace);
        Assert.Equal(0, row.Wrong);
    }

    [Fact]
    public void Write_Json_KeepsTheOutOfPlaceNamesAndAddsTheInPlaceOnes()
    {
        string path = Path.Combine(Path.GetTempPath(), $"artifex-perf-{Guid.NewGuid():N}.json");
        try
        {
            Report.Write(path, [new ResultRow(4096, 1024, "float", "sum", 4.0, 1, 1, 0, 2.0, null, 3.0, 1.5, 1.5, 7)]);
            using JsonDocument json = JsonDocument.Parse(File.ReadAllText(path));
            JsonElement row = json.RootElement[0];
            Assert.Equal(4.0, row.GetProperty("TimeMicros").GetDouble());
            Assert.Equal(0, row.GetProperty("Wrong").GetInt64());
            Assert.Equal(3.0, row.GetProperty("InPlaceTimeMicros").GetDouble());
            Assert.Equal(7, row.GetProperty("InPlaceWrong").GetInt64());
            Assert.Equal(7, row.GetProperty("TotalWrong").GetInt64());
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>One size, one iteration, no warm-up: these tests check results, never times.</summary>
    private static PerfSettings Settings(string kind, int devices) => Settings(Enum.Parse<CollectiveKind>(kind), devices);

    private static PerfSettings Settings(CollectiveKind kind, int devices) =>
        new(kind, "cpu", devices, 4096, 4096, 4, Iterations: 1, Warmup: 0, ReduceOp.Sum, "float", HostIssued: false, null, CompareMpi: false, WarmupSeconds: 0);

    private static (int Code, string Output, string[] Errors) Run(string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = PerfApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
