namespace Artifex.Mpi.Runtime;

/// <summary>Where an axis group's members live: its devices in rank order, which ranks this process holds, and the processes involved.</summary>
internal sealed class MpiGroupLayout
{
    public MpiGroupLayout(AxisGroup group, int process)
    {
        Devices = [.. Enumerable.Range(0, group.Size).Select(r => group.Mesh.Devices[group.GetDeviceIndex(r)])];
        LocalRanks = [.. Enumerable.Range(0, group.Size).Where(r => Devices[r].ProcessIndex == process)];
        Processes = [.. Devices.Select(static d => d.ProcessIndex).Distinct().Order()];
    }

    public Device[] Devices { get; }

    /// <summary>Gets the ranks whose devices this process holds, ascending.</summary>
    public int[] LocalRanks { get; }

    /// <summary>Gets the processes holding members, ascending (their order in the group's communicator).</summary>
    public int[] Processes { get; }

    public int Size => Devices.Length;

    /// <summary>
    /// Gets whether every process holds one run of consecutive ranks of the same length, the runs in process order (what
    /// <c>MPI_Allgather</c> needs: it puts communicator rank c's run at c times its length, and ranks follow process index).
    /// </summary>
    public bool HasProcessOrderedBlocks =>
        Processes.Select((p, c) =>
        {
            int[] ranks = [.. Enumerable.Range(0, Size).Where(r => Devices[r].ProcessIndex == p)];
            int length = Size / Processes.Length;
            return ranks.Length == length && ranks[0] == c * length && ranks[^1] - ranks[0] == length - 1;
        }).All(static ok => ok);

    /// <summary>Gets the rank, in the group's communicator, of the process holding group rank <paramref name="rank"/>.</summary>
    public int CommunicatorRankOf(int rank) => Array.IndexOf(Processes, Devices[rank].ProcessIndex);
}
