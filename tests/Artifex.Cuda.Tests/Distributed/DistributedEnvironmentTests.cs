using Artifex.Cuda.Distributed;

namespace Artifex.Cuda.Tests.Distributed;

public sealed class DistributedEnvironmentTests
{
    [Fact]
    public void NoLauncher_IsSingleProcess()
    {
        DistributedEnvironment env = Parse(string.Empty);

        Assert.Equal((0, 1, 0, 1), (env.Rank, env.WorldSize, env.LocalRank, env.LocalWorldSize));
        Assert.Equal("none", env.Launcher);
        Assert.Equal(RendezvousMode.SingleProcess, env.Mode);
        Assert.False(env.IsMultiProcess);
        Assert.Null(env.NcclCommId);
        Assert.Null(env.DerivedNcclCommId);
        Assert.Equal("rank 0 of 1 (local 0 of 1) via none, rendezvous SingleProcess", env.ToString());
    }

    [Fact]
    public void Torchrun_ReadsAllFour()
    {
        DistributedEnvironment env = Parse("RANK=3;WORLD_SIZE=4;LOCAL_RANK=1;LOCAL_WORLD_SIZE=2;MASTER_ADDR=node0;MASTER_PORT=29500");

        Assert.Equal((3, 4, 1, 2), (env.Rank, env.WorldSize, env.LocalRank, env.LocalWorldSize));
        Assert.Equal("torchrun", env.Launcher);
        Assert.Equal(RendezvousMode.TcpStore, env.Mode);
        Assert.True(env.IsMultiProcess);
        Assert.Equal("node0", env.MasterAddress);
        Assert.Equal(29500, env.MasterPort);
        Assert.Equal("node0:29501", env.DerivedNcclCommId);
        Assert.Equal("rank 3 of 4 (local 1 of 2) via torchrun, rendezvous TcpStore at node0:29500", env.ToString());
    }

    [Fact]
    public void StoreSecret_IsRead_AndNeverShown()
    {
        DistributedEnvironment with = Parse("RANK=0;WORLD_SIZE=2;MASTER_ADDR=node0;MASTER_PORT=29500;ARTIFEX_STORE_SECRET=s3cret-value-0123456789");
        DistributedEnvironment without = Parse("RANK=0;WORLD_SIZE=2;MASTER_ADDR=node0;MASTER_PORT=29500;ARTIFEX_STORE_SECRET=");

        Assert.Equal("s3cret-value-0123456789", with.StoreSecret);
        Assert.DoesNotContain("s3cret", with.ToString(), StringComparison.Ordinal);
        Assert.Null(without.StoreSecret);
    }

    [Fact]
    public void Torchrun_WithoutLocalVariables_DefaultsToOneHost()
    {
        DistributedEnvironment env = Parse("RANK=2;WORLD_SIZE=4;NCCL_COMM_ID=10.0.0.1:6000");

        Assert.Equal(0, env.LocalRank);
        Assert.Equal(4, env.LocalWorldSize);
    }

    [Fact]
    public void WorldOfOne_WithoutLocalVariables_HasLocalWorldOfOne()
    {
        DistributedEnvironment env = Parse("RANK=0;WORLD_SIZE=1");

        Assert.Equal((0, 1, 0, 1), (env.Rank, env.WorldSize, env.LocalRank, env.LocalWorldSize));
        Assert.Equal("torchrun", env.Launcher);
        Assert.Equal(RendezvousMode.SingleProcess, env.Mode);
    }

    [Fact]
    public void OpenMpi_ReadsAllFour()
    {
        DistributedEnvironment env = Parse("OMPI_COMM_WORLD_RANK=5;OMPI_COMM_WORLD_SIZE=8;OMPI_COMM_WORLD_LOCAL_RANK=1;OMPI_COMM_WORLD_LOCAL_SIZE=4;NCCL_COMM_ID=head:7000");

        Assert.Equal((5, 8, 1, 4), (env.Rank, env.WorldSize, env.LocalRank, env.LocalWorldSize));
        Assert.Equal("openmpi", env.Launcher);
        Assert.Equal(RendezvousMode.NcclCommId, env.Mode);
        Assert.Equal("head:7000", env.NcclCommId);
        Assert.Null(env.DerivedNcclCommId);
    }

    [Fact]
    public void Slurm_ReadsPlainTasksPerNode()
    {
        DistributedEnvironment env = Parse("SLURM_PROCID=3;SLURM_NTASKS=4;SLURM_LOCALID=1;SLURM_NTASKS_PER_NODE=2;MASTER_ADDR=n1;MASTER_PORT=1234");

        Assert.Equal((3, 4, 1, 2), (env.Rank, env.WorldSize, env.LocalRank, env.LocalWorldSize));
        Assert.Equal("slurm", env.Launcher);
    }

    [Theory]
    [InlineData("2(x3)")]
    [InlineData("2,1")]
    public void Slurm_IgnoresUnevenTasksPerNode(string tasksPerNode)
    {
        DistributedEnvironment env = Parse($"SLURM_PROCID=1;SLURM_NTASKS=6;SLURM_LOCALID=1;SLURM_NTASKS_PER_NODE={tasksPerNode};MASTER_ADDR=n1;MASTER_PORT=1234");

        Assert.Equal(6, env.LocalWorldSize);
    }

    [Fact]
    public void Pmi_ReadsRankAndSize()
    {
        DistributedEnvironment env = Parse("PMI_RANK=1;PMI_SIZE=2;MASTER_ADDR=127.0.0.1;MASTER_PORT=29500");

        Assert.Equal((1, 2, 0, 2), (env.Rank, env.WorldSize, env.LocalRank, env.LocalWorldSize));
        Assert.Equal("pmi", env.Launcher);
    }

    [Fact]
    public void Torchrun_TakesPrecedenceOverOpenMpi()
    {
        DistributedEnvironment env = Parse("OMPI_COMM_WORLD_RANK=0;OMPI_COMM_WORLD_SIZE=2;RANK=1;WORLD_SIZE=3;MASTER_ADDR=a;MASTER_PORT=1");

        Assert.Equal("torchrun", env.Launcher);
        Assert.Equal((1, 3), (env.Rank, env.WorldSize));
    }

    [Fact]
    public void EmptyValues_CountAsUnset()
    {
        DistributedEnvironment env = Parse("RANK=;WORLD_SIZE=;OMPI_COMM_WORLD_RANK=1;OMPI_COMM_WORLD_SIZE=2;NCCL_COMM_ID=h:1");

        Assert.Equal("openmpi", env.Launcher);
    }

    [Theory]
    [InlineData("RANK=x;WORLD_SIZE=2", "RANK='x'")]
    [InlineData("RANK=-1;WORLD_SIZE=2", "RANK='-1'")]
    [InlineData("RANK=+1;WORLD_SIZE=2", "RANK='+1'")]
    [InlineData("RANK= 1;WORLD_SIZE=2", "RANK=' 1'")]
    [InlineData("RANK=1.0;WORLD_SIZE=2", "RANK='1.0'")]
    [InlineData("RANK=99999999999;WORLD_SIZE=2", "RANK='99999999999'")]
    [InlineData("RANK=0;WORLD_SIZE=two", "WORLD_SIZE='two'")]
    [InlineData("RANK=0;WORLD_SIZE=0", "WORLD_SIZE=0")]
    [InlineData("RANK=4;WORLD_SIZE=4", "RANK=4", "WORLD_SIZE=4")]
    [InlineData("RANK=0;WORLD_SIZE=2;LOCAL_RANK=a;NCCL_COMM_ID=h:1", "LOCAL_RANK='a'")]
    [InlineData("RANK=0;WORLD_SIZE=2;LOCAL_RANK=2;LOCAL_WORLD_SIZE=2;NCCL_COMM_ID=h:1", "LOCAL_RANK=2", "LOCAL_WORLD_SIZE=2")]
    [InlineData("RANK=0;WORLD_SIZE=2;LOCAL_RANK=2;NCCL_COMM_ID=h:1", "LOCAL_RANK=2", "WORLD_SIZE=2")]
    [InlineData("RANK=0;WORLD_SIZE=2;LOCAL_WORLD_SIZE=0;NCCL_COMM_ID=h:1", "LOCAL_WORLD_SIZE=0")]
    [InlineData("RANK=0;WORLD_SIZE=2;LOCAL_WORLD_SIZE=3;NCCL_COMM_ID=h:1", "LOCAL_WORLD_SIZE=3", "WORLD_SIZE=2")]
    [InlineData("RANK=1", "RANK=1", "WORLD_SIZE")]
    [InlineData("WORLD_SIZE=2", "WORLD_SIZE=2", "RANK")]
    [InlineData("OMPI_COMM_WORLD_SIZE=2", "OMPI_COMM_WORLD_SIZE=2", "OMPI_COMM_WORLD_RANK")]
    [InlineData("SLURM_PROCID=0", "SLURM_PROCID=0", "SLURM_NTASKS")]
    [InlineData("PMI_RANK=0", "PMI_RANK=0", "PMI_SIZE")]
    [InlineData("SLURM_PROCID=0;SLURM_NTASKS=2;SLURM_LOCALID=z;NCCL_COMM_ID=h:1", "SLURM_LOCALID='z'")]
    [InlineData("OMPI_COMM_WORLD_RANK=0;OMPI_COMM_WORLD_SIZE=2;OMPI_COMM_WORLD_LOCAL_SIZE=-2;NCCL_COMM_ID=h:1", "OMPI_COMM_WORLD_LOCAL_SIZE='-2'")]
    [InlineData("MASTER_ADDR=h;MASTER_PORT=0", "MASTER_PORT='0'")]
    [InlineData("MASTER_ADDR=h;MASTER_PORT=65536", "MASTER_PORT='65536'")]
    [InlineData("MASTER_ADDR=h;MASTER_PORT=http", "MASTER_PORT='http'")]
    [InlineData("NCCL_COMM_ID=host", "NCCL_COMM_ID='host'")]
    [InlineData("NCCL_COMM_ID=host:", "NCCL_COMM_ID='host:'")]
    [InlineData("NCCL_COMM_ID=:29500", "NCCL_COMM_ID=':29500'")]
    [InlineData("NCCL_COMM_ID=host:70000", "NCCL_COMM_ID='host:70000'")]
    [InlineData("NCCL_COMM_ID=host:-1", "NCCL_COMM_ID='host:-1'")]
    [InlineData("NCCL_COMM_ID=::1:29500", "NCCL_COMM_ID='::1:29500'")]
    [InlineData("NCCL_COMM_ID=[host]:29500", "NCCL_COMM_ID='[host]:29500'")]
    [InlineData("NCCL_COMM_ID=[]:29500", "NCCL_COMM_ID='[]:29500'")]
    public void InvalidVariables_Throw_NamingVariableAndValue(string variables, params string[] expected)
    {
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => Parse(variables));

        foreach (string fragment in expected)
        {
            Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("RANK=0;WORLD_SIZE=2", "neither is set")]
    [InlineData("RANK=0;WORLD_SIZE=2;MASTER_ADDR=h", "MASTER_ADDR=h is set but MASTER_PORT is not")]
    [InlineData("RANK=0;WORLD_SIZE=2;MASTER_PORT=29500", "MASTER_PORT=29500 is set but MASTER_ADDR is not")]
    public void SeveralRanksWithoutRendezvous_Throw_NamingTheVariablesNeeded(string variables, string detail)
    {
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => Parse(variables));

        Assert.Contains("NCCL_COMM_ID", e.Message, StringComparison.Ordinal);
        Assert.Contains("MASTER_ADDR", e.Message, StringComparison.Ordinal);
        Assert.Contains("MASTER_PORT", e.Message, StringComparison.Ordinal);
        Assert.Contains("2 processes", e.Message, StringComparison.Ordinal);
        Assert.Contains(detail, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:29500")]
    [InlineData("node-01.cluster:1")]
    [InlineData("[::1]:65535")]
    [InlineData("[fe80::1]:6000")]
    public void NcclCommId_ValidForms_SelectNcclCommIdMode(string commId)
    {
        DistributedEnvironment env = Parse($"RANK=0;WORLD_SIZE=2;NCCL_COMM_ID={commId};MASTER_ADDR=h;MASTER_PORT=29500");

        Assert.Equal(RendezvousMode.NcclCommId, env.Mode);
        Assert.Equal(commId, env.NcclCommId);
        Assert.Equal("h", env.MasterAddress);
        Assert.Null(env.DerivedNcclCommId);
        Assert.EndsWith($"rendezvous NcclCommId at {commId}", env.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void SingleProcess_KeepsMasterVariables()
    {
        DistributedEnvironment env = Parse("MASTER_ADDR=h");

        Assert.Equal(RendezvousMode.SingleProcess, env.Mode);
        Assert.Equal("h", env.MasterAddress);
        Assert.Null(env.MasterPort);
    }

    [Fact]
    public void WorldOfOne_WithMasterVariables_UsesTheStore()
    {
        DistributedEnvironment env = Parse("MASTER_ADDR=localhost;MASTER_PORT=29500");

        Assert.Equal(RendezvousMode.TcpStore, env.Mode);
        Assert.False(env.IsMultiProcess);
    }

    [Theory]
    [InlineData("::1", "29500", "[::1]:29501")]
    [InlineData("10.1.2.3", "29500", "10.1.2.3:29501")]
    [InlineData("h", "65535", null)]
    public void DerivedNcclCommId_IsNextPortOfMaster(string address, string port, string? expected)
    {
        DistributedEnvironment env = Parse($"RANK=1;WORLD_SIZE=2;MASTER_ADDR={address};MASTER_PORT={port}");

        Assert.Equal(expected, env.DerivedNcclCommId);
    }

    [Fact]
    public void Parse_NullDictionary_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => DistributedEnvironment.Parse(null!));
    }

    private static DistributedEnvironment Parse(string variables)
    {
        var dictionary = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (string pair in variables.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            dictionary[pair[..equals]] = pair[(equals + 1)..];
        }

        return DistributedEnvironment.Parse(dictionary);
    }
}
