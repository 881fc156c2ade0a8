namespace Artifex.Mpi.Runtime;

/// <summary>Where an axis group's members live across processes: the processes involved and how their ranks are laid out.</summary>
internal sealed class MpiGroupLayout
{
    /// <summary>Initializes the layout of a group.</summary>
    /// <param name="devices">The group's devices in rank order (the rendezvous's).</param>
    public MpiGroupLayout(IReadOnlyList<Device> devices)
    {
        Devices = devices;
        Processes = [.. devices.Select(static d => d.ProcessIndex).Distinct().Order()];
    }

    public IReadOnlyList<Device> Devices { get; }

    /// <summary>Gets the processes holding members, ascending (their order in the group's communicator).</summary>
    public int[] Processes { get; }

    public int Size => Devices.Count;

    /// <summary>
    /// Gets whether every process holds one run of consecutive ranks of the same length, the runs in process order (what
    /// <c>MPI_Allgather</c> needs: it puts communicator rank c's run at c times its length, and ranks follow process index).
    /// </summary>
    public bool HasProcessOrderedBlocks =>
        Processes.Select((p, c) =>
        {
            int[] ranks = RanksOf(p);
            int length = Size / Processes.Length;
            return ranks.Length == length && ranks[0] == c * length && ranks[^1] - ranks[0] == length - 1;
        }).All(static ok => ok);

    /// <summary>Gets the group ranks that process <paramref name="process"/> holds, ascending.</summary>
    public int[] RanksOf(int process) => [.. Enumerable.Range(0, Size).Where(r => Devices[r].ProcessIndex == process)];

    /// <summary>Gets the rank, in the group's communicator, of the process holding group rank <paramref name="rank"/>.</summary>
    public int CommunicatorRankOf(int rank) => Array.IndexOf(Processes, Devices[rank].ProcessIndex);
}
