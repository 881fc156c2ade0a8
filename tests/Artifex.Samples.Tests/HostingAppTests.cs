using Artifex.Samples.Hosting;

namespace Artifex.Samples.Tests;

/// <summary>The Generic Host sample, run in process: a configuration value it cannot use ends in one line and exit code 2, never an unhandled exception.</summary>
public sealed class HostingAppTests
{
    [Theory]
    [InlineData("Artifex:Cpu:DeviceCount", "abc")]
    [InlineData("Artifex:Cpu:CollectiveTimeout", "soon")]
    [InlineData("Artifex:Cpu:CachedBytesLimit", "1e99")]
    [InlineData("Artifex:Mpi:LocalDeviceCount", "x")]
    [InlineData("Artifex:Mpi:CollectiveTimeout", "-")]
    [InlineData("Logging:LogLevel:Default", "abc")]
    public void Run_UnparsableValue_OneLineNamingKeyAndValueExitTwo(string key, string value)
    {
        (int code, string[] errors) = Run($"--{key}={value}");
        Assert.Equal(2, code);
        string error = Assert.Single(errors);
        Assert.StartsWith($"Configuration error: {key}='{value}' cannot be read: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ValueTheValidatorRefuses_OneLineNamingTheKeyExitTwo()
    {
        (int code, string[] errors) = Run("--Artifex:Cpu:DeviceCount=0");
        Assert.Equal(2, code);
        Assert.Contains("Artifex:Cpu:DeviceCount must be at least 1, but is 0.", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_TwoCpuDevices_ReportsEveryStep_TheLossFalls()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = HostingApp.Run(["--Artifex:Cpu:DeviceCount=2"], output, error);

        Assert.True(code == 0, error.ToString());
        HostingReport report = HostingReport.Parse(output.ToString());
        Assert.StartsWith("CpuProvider: 2 'cpu' devices, mesh ", report.Header, StringComparison.Ordinal);
        Assert.Equal(5, report.Losses.Count);
        Assert.True(report.Losses.Zip(report.Losses.Skip(1)).All(static pair => pair.Second < pair.First), string.Join(", ", report.Losses));
        Assert.Equal(4, report.Weights.Count);
    }

    private static (int Code, string[] Errors) Run(params string[] args)
    {
        using var error = new StringWriter();
        int code = HostingApp.Run(args, TextWriter.Null, error);
        return (code, error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
