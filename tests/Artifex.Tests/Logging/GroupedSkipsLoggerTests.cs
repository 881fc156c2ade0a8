using Artifex.TestLogger;

namespace Artifex.Tests.Logging;

public sealed class GroupedSkipsLoggerTests
{
    [Theory]
    [InlineData("[xUnit.net 00:00:02.31]     Artifex.Cuda.Tests.CudaProviderGpuTests.Provider_ReportsItsGpus [SKIP]", true)]
    [InlineData("[xUnit.net 00:00:12.64]     Artifex.Cuda.Tests.C.RunSpmd(n: 8, roundsBeforeFault: 3) [SKIP]", true)]
    [InlineData("[xUnit.net 00:00:01.66]     Artifex.Tests.A.B [FAIL]", false)]
    [InlineData("[xUnit.net 00:00:00.10] Skipping a test assembly [SKIP] because of its configuration", false)]
    [InlineData("No test is available in /repo/tests/X.dll [SKIP]", false)]
    [InlineData(null, false)]
    public void OnlyXunitsPerTestSkipWarnings_AreLeftOut(string? message, bool leftOut) =>
        Assert.Equal(leftOut, GroupedSkipsLogger.IsPerTestSkipNotice(message));
}
