using System.Globalization;
using System.Net.Sockets;
using Artifex.Cuda.Distributed;

namespace Artifex.Cuda.Tests.Distributed;

/// <summary>The unique-id rendezvous of <see cref="NcclCommunicator"/> on loopback, with a fake id in place of NCCL's (no GPU needed).</summary>
public sealed class NcclIdExchangeTests
{
    [Theory]
    [InlineData("torchrun", 2)]
    [InlineData("torchrun", 4)]
    [InlineData("openmpi", 3)]
    public void EveryRank_GetsRankZerosId(string launcher, int worldSize)
    {
        int port = LoopbackPorts.Free();
        byte[] id = [.. Enumerable.Range(0, 128).Select(static i => (byte)(i * 7))];
        int created = 0;
        var results = new byte[worldSize][];
        Parallel.For(0, worldSize, new ParallelOptions { MaxDegreeOfParallelism = worldSize }, rank =>
        {
            DistributedEnvironment environment = DistributedEnvironment.Parse(Variables(launcher, rank, worldSize, port));
            results[rank] = NcclCommunicator.ExchangeUniqueId(environment, () =>
            {
                Interlocked.Increment(ref created);
                return id;
            }, TimeSpan.FromSeconds(20));
        });

        Assert.Equal(1, created);
        Assert.All(results, r => Assert.Equal(id, r));
    }

    [Fact]
    public void UnderTorchrun_TheStoreAvoidsMasterPort_WhichTorchrunsAgentHolds()
    {
        using TcpListener agentStore = LoopbackPorts.HoldWithFreeNeighbour(out int port);
        byte[] id = new byte[128];
        var results = new byte[2][];
        Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, rank =>
        {
            Dictionary<string, string?> variables = Variables("torchrun", rank, 2, port);
            variables["MASTER_PORT"] = port.ToString(CultureInfo.InvariantCulture);
            results[rank] = NcclCommunicator.ExchangeUniqueId(DistributedEnvironment.Parse(variables), () => id, TimeSpan.FromSeconds(20));
        });

        Assert.All(results, r => Assert.Equal(id, r));
    }

    [Fact]
    public void AWorldOfOne_NeedsNoStore_AndNoSecret()
    {
        Dictionary<string, string?> variables = Variables("torchrun", 0, 1, LoopbackPorts.Free());
        variables.Remove(TcpStoreOptions.SecretVariable);
        byte[] id = [1, 2, 3];

        Assert.Same(id, NcclCommunicator.ExchangeUniqueId(DistributedEnvironment.Parse(variables), () => id, TimeSpan.FromSeconds(5)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void WithoutTheSecret_EveryRankFailsClosed_NamingTheVariable(int rank)
    {
        Dictionary<string, string?> variables = Variables("openmpi", rank, 2, LoopbackPorts.Free());
        variables.Remove(TcpStoreOptions.SecretVariable);

        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => NcclCommunicator.ExchangeUniqueId(DistributedEnvironment.Parse(variables), () => new byte[128], TimeSpan.FromSeconds(5)));

        Assert.Contains(TcpStoreOptions.SecretVariable, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARankWhoseRootNeverComes_TimesOutNamingTheStore()
    {
        int port = LoopbackPorts.Free();
        DistributedEnvironment environment = DistributedEnvironment.Parse(Variables("openmpi", 1, 2, port));
        TimeoutException error = Assert.Throws<TimeoutException>(() => NcclCommunicator.ExchangeUniqueId(environment, () => [], TimeSpan.FromMilliseconds(500)));
        Assert.Contains(port.ToString(CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Variables(string launcher, int rank, int worldSize, int port)
    {
        string r = rank.ToString(CultureInfo.InvariantCulture), n = worldSize.ToString(CultureInfo.InvariantCulture);
        bool torchrun = string.Equals(launcher, "torchrun", StringComparison.Ordinal);
        var variables = torchrun
            ? new Dictionary<string, string?>(StringComparer.Ordinal) { ["RANK"] = r, ["WORLD_SIZE"] = n, ["LOCAL_RANK"] = r, ["LOCAL_WORLD_SIZE"] = n }
            : new Dictionary<string, string?>(StringComparer.Ordinal) { ["OMPI_COMM_WORLD_RANK"] = r, ["OMPI_COMM_WORLD_SIZE"] = n, ["OMPI_COMM_WORLD_LOCAL_RANK"] = r, ["OMPI_COMM_WORLD_LOCAL_SIZE"] = n };

        // Under torchrun the store goes to MASTER_PORT + 1, so MASTER_PORT is chosen one below the free port.
        variables["MASTER_ADDR"] = "127.0.0.1";
        variables[TcpStoreOptions.SecretVariable] = "nccl-id-exchange-tests-secret";
        variables["MASTER_PORT"] = (torchrun ? port - 1 : port).ToString(CultureInfo.InvariantCulture);
        return variables;
    }
}
