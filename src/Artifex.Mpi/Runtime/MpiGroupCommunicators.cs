using System.Globalization;

namespace Artifex.Mpi.Runtime;

/// <summary>
/// The MPI communicators of a provider's axis groups: for each group that spans several processes, one communicator over
/// those processes (ranked by process index), split from the world communicator on first use and kept until disposal.
/// </summary>
/// <remarks>
/// <c>MPI_Comm_split</c> is collective over the world: every process creates the communicators of all groups of an axis
/// set at once, in group order, when it first needs one of them. SPMD programs reach their first collective over each axis
/// set in the same order on every process, so the splits match up.
/// </remarks>
internal sealed class MpiGroupCommunicators : IDisposable
{
    private readonly Dictionary<string, MpiCommunicator?[]> _communicators = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly MpiCommunicator _world;
    private readonly int _process;

    public MpiGroupCommunicators(MpiCommunicator world, int process)
    {
        _world = world;
        _process = process;
    }

    /// <summary>Gets group <paramref name="groupIndex"/>'s communicator, or null when the group lives in this process alone.</summary>
    public MpiCommunicator? Get(Mesh mesh, ReadOnlySpan<string> axisNames, int groupIndex)
    {
        string key = Key(mesh, axisNames);
        lock (_lock)
        {
            if (!_communicators.TryGetValue(key, out MpiCommunicator?[]? all))
            {
                all = Create(mesh, mesh.GetAxisGroups(axisNames), string.Join(", ", axisNames.ToArray().Select(static n => $"'{n}'")));
                _communicators.Add(key, all);
            }

            return all[groupIndex];
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (MpiCommunicator? communicator in _communicators.Values.SelectMany(static c => c))
            {
                communicator?.Dispose();
            }

            _communicators.Clear();
        }
    }

    private static string Key(Mesh mesh, ReadOnlySpan<string> axisNames) => string.Create(
        CultureInfo.InvariantCulture,
        $"{string.Join(',', mesh.Devices.Select(static d => d.Id))}|{string.Join(',', mesh.AxisSizes)}|{string.Join(',', mesh.AxisNames)}|{string.Join(',', axisNames.ToArray())}");

    private MpiCommunicator?[] Create(Mesh mesh, int[][] groups, string axes)
    {
        var created = new MpiCommunicator?[groups.Length];
        for (int g = 0; g < groups.Length; g++)
        {
            int[] processes = [.. groups[g].Select(d => mesh.Devices[d].ProcessIndex).Distinct()];
            bool member = processes.Length > 1 && Array.IndexOf(processes, _process) >= 0;
            // The name is what the watchdog reports if a collective over this group never completes.
            created[g] = _world.Split(member ? 0 : -1, _process, string.Create(CultureInfo.InvariantCulture, $"axis {axes} (group {g} of {groups.Length})"));
        }

        return created;
    }
}
