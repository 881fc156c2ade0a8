using Artifex.TestLogger;

namespace Artifex.Tests.Logging;

public sealed class SkipReportTests
{
    private const string Source = "/repo/tests/Artifex.Cuda.Tests/bin/Debug/net10.0/Artifex.Cuda.Tests.dll";

    [Fact]
    public void NothingSkipped_FormatsNothing()
    {
        SkipReport report = new();

        Assert.Equal(0, report.Count);
        Assert.Empty(report.FormatLines());
    }

    [Fact]
    public void Reasons_AreGroupedLargestFirst_WithTheCountsRightAligned_UnderTheAssemblysFileName()
    {
        SkipReport report = new();
        for (int i = 0; i < 12; i++)
        {
            report.Add(Source, "No usable GPU: libcuda.so.1 not found");
            if (i % 4 == 0)
            {
                report.Add(Source, "Needs 2 GPUs; this machine has 0.");
            }
        }

        Assert.Equal(15, report.Count);
        Assert.Equal(
            [
                "Skipped 15 tests in Artifex.Cuda.Tests.dll:",
                "  12  No usable GPU: libcuda.so.1 not found",
                "   3  Needs 2 GPUs; this machine has 0.",
            ],
            report.FormatLines());
    }

    [Fact]
    public void EqualCounts_AreOrderedByReason()
    {
        SkipReport report = new();
        report.Add(Source, "b");
        report.Add(Source, "c");
        report.Add(Source, "a");

        Assert.Equal(["Skipped 3 tests in Artifex.Cuda.Tests.dll:", "  1  a", "  1  b", "  1  c"], report.FormatLines());
    }

    [Fact]
    public void MissingOrBlankReasons_ShareOneGroup_AndReasonsAreTrimmed()
    {
        SkipReport report = new();
        report.Add(Source, null);
        report.Add(Source, "  ");
        report.Add(Source, "mpirun not found ");
        report.Add(Source, "mpirun not found");

        Assert.Equal(
            ["Skipped 4 tests in Artifex.Cuda.Tests.dll:", "  2  (no reason given)", "  2  mpirun not found"],
            report.FormatLines());
    }

    [Fact]
    public void AReasonOfSeveralLines_KeepsItsLaterLinesUnderItsFirst()
    {
        SkipReport report = new();
        for (int i = 0; i < 10; i++)
        {
            report.Add(Source, "clang-14 not found\r\ninstall it with apt-get");
        }

        Assert.Equal(
            ["Skipped 10 tests in Artifex.Cuda.Tests.dll:", "  10  clang-14 not found", "      install it with apt-get"],
            report.FormatLines());
    }

    [Fact]
    public void EachAssembly_GetsItsOwnBlock_InTheOrderItFirstSkipped()
    {
        SkipReport report = new();
        report.Add(Source, "No usable GPU");
        report.Add("/repo/tests/Artifex.Mpi.Tests/bin/Debug/net10.0/Artifex.Mpi.Tests.dll", "mpirun not found");
        report.Add(Source, "No usable GPU");

        Assert.Equal(
            [
                "Skipped 2 tests in Artifex.Cuda.Tests.dll:",
                "  2  No usable GPU",
                string.Empty,
                "Skipped 1 test in Artifex.Mpi.Tests.dll:",
                "  1  mpirun not found",
            ],
            report.FormatLines());
    }
}
