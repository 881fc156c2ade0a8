using Artifex.Testing;

namespace Artifex.Samples.Tests;

/// <summary>
/// The Hosting sample with the MPI provider on 2 processes × 2 devices under mpirun: its ShardMap steps span both
/// processes, and it reports what the same steps report on one process with 4 CPU devices. Skipped without mpirun.
/// </summary>
public sealed class MpiHostingTests
{
    [Fact]
    public void TwoProcessesTimesTwoDevices_RunsEveryStep_ReportsOnce_AsOneProcessWithFourDevices()
    {
        (int code, string output, string error) = Mpirun.Run(2, "Artifex.Samples.Hosting.dll", "--Artifex:Provider=mpi", "--Artifex:Mpi:LocalDeviceCount=2");

        Assert.True(code == 0, $"mpirun exited {code}: {output}{error}");
        HostingReport mpi = HostingReport.Parse(output);
        Assert.Single(output.Split('\n'), static line => line.StartsWith("MpiProvider: ", StringComparison.Ordinal));
        Assert.StartsWith("MpiProvider: 4 'cpu' devices over 2 processes, mesh ", mpi.Header, StringComparison.Ordinal);

        using var single = new StringWriter();
        using var singleError = new StringWriter();
        Assert.Equal(0, Hosting.HostingApp.Run(["--Artifex:Cpu:DeviceCount=4"], single, singleError));
        HostingReport cpu = HostingReport.Parse(single.ToString());
        Assert.Equal(cpu.Losses.Count, mpi.Losses.Count);
        Assert.All(cpu.Losses.Zip(mpi.Losses), pair => Assert.Equal(pair.First, pair.Second, 1e-3f));
        Assert.All(cpu.Weights.Zip(mpi.Weights), pair => Assert.Equal(pair.First, pair.Second, 1e-3f));
    }
}
