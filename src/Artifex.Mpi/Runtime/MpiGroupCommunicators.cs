using System.Globalization;

namespace Artifex.Mpi.Runtime;

/// <summary>
/// The MPI communicators of a provider's axis groups: for each group that spans several processes, one communicator over
/// those processes (ranked by process index), split from the world communicator on first use and kept until disposal.
/// </summary>
/// <remarks>
/// <c>MPI_Comm_split</c> is collective over the world, so all of a mesh's communicators are created at once, in one
/// canonical order, by the thread that starts the region (every process starts the same regions in the same order).
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
    /// <exception cref="InvalidOperationException">The communicators of the mesh were not created first (<see cref="CreateAll"/>).</exception>
    public MpiCommunicator? Get(Mesh mesh, ReadOnlySpan<string> axisNames, int groupIndex)
    {
        string key = Key(mesh, Canonical(mesh, axisNames));
        lock (_lock)
        {
            return _communicators.TryGetValue(key, out MpiCommunicator?[]? all)
                ? all[groupIndex]
                : throw new InvalidOperationException($"No communicators for axes {string.Join(", ", axisNames.ToArray())} of {mesh}: a region must create them before its participants start.");
        }
    }

    /// <summary>
    /// Creates the communicators of every group of every non-empty set of the mesh's axes, in one canonical order, on the
    /// calling thread (the region's, before any participant runs): <c>MPI_Comm_split</c> is collective over the world, so
    /// every process must split in the same order, which participant threads racing to their first collective would not.
    /// </summary>
    public void CreateAll(Mesh mesh)
    {
        lock (_lock)
        {
            for (int subset = 1; subset < 1 << mesh.Rank; subset++)
            {
                string[] names = [.. Enumerable.Range(0, mesh.Rank).Where(a => (subset & (1 << a)) != 0).Select(a => mesh.AxisNames[a])];
                string key = Key(mesh, names);
                if (!_communicators.ContainsKey(key))
                {
                    _communicators.Add(key, Create(mesh, mesh.GetAxisGroups(names), string.Join(", ", names.Select(static n => $"'{n}'"))));
                }
            }
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

    /// <summary>The named axes in mesh order: a group's processes do not depend on the order the axes were named in.</summary>
    private static string[] Canonical(Mesh mesh, ReadOnlySpan<string> axisNames)
    {
        string[] names = axisNames.ToArray();
        Array.Sort(names, (x, y) => mesh.IndexOfAxis(x).CompareTo(mesh.IndexOfAxis(y)));
        return names;
    }

    private static string Key(Mesh mesh, string[] axisNames) => string.Create(
        CultureInfo.InvariantCulture,
        $"{string.Join(',', mesh.Devices.Select(static d => d.Id))}|{string.Join(',', mesh.AxisSizes)}|{string.Join(',', mesh.AxisNames)}|{string.Join(',', axisNames)}");

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
