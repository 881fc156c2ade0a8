using System.Collections.Immutable;
using System.Collections.ObjectModel;

namespace Artifex;

/// <summary>
/// An N-dimensional arrangement of distinct devices with one unique, non-empty name per axis.
/// </summary>
/// <remarks>
/// The counterpart of <c>jax.sharding.Mesh</c>. Devices are stored row-major (C order): on an (A, B)
/// mesh the device at coordinate (i, j) is <c>Devices[i * B + j]</c>. Meshes are immutable and compare
/// by value (axis names, sizes and devices in order).
/// </remarks>
public sealed class Mesh : IEquatable<Mesh>
{
    private ParticipantCacheEntry?[]? _participantCaches;

    private static readonly AsyncLocal<Mesh?> s_current = new();

    /// <summary>Creates a mesh from devices in row-major order and its named axes.</summary>
    /// <param name="devices">The devices, row-major; their count must equal the product of the axis sizes.</param>
    /// <param name="axes">The axes in order, e.g. <c>("data", 2), ("model", 2)</c>. No axes gives a 0-d mesh of one device.</param>
    /// <exception cref="ArgumentNullException">An argument or a device is null.</exception>
    /// <exception cref="ArgumentException">An axis name is empty or repeated, a size is below 1, devices repeat, or the device count does not match the shape.</exception>
    public Mesh(IEnumerable<Device> devices, params MeshAxis[] axes)
    {
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(axes);
        ValidateAxes(axes, nameof(axes));
        ImmutableArray<Device> deviceArray = [.. devices];
        // Axis sizes are ints, so stopping once the product passes int.MaxValue keeps it from wrapping to a size that fits.
        long required = 1;
        foreach (MeshAxis axis in axes)
        {
            required = required > int.MaxValue ? required : required * axis.Size;
        }

        if (deviceArray.Length != required)
        {
            string needs = required > int.MaxValue ? $"more than {int.MaxValue}" : $"{required}";
            throw new ArgumentException(
                $"A mesh of shape {Python.Shape(axes.Select(a => (long)a.Size).ToArray())} needs {needs} devices, but {deviceArray.Length} were given.",
                nameof(devices));
        }

        var seen = new HashSet<Device>();
        foreach (Device device in deviceArray)
        {
            if (device is null)
            {
                throw new ArgumentNullException(nameof(devices), "A mesh device is null.");
            }

            if (!seen.Add(device))
            {
                throw new ArgumentException($"Mesh devices must be distinct, but {device} appears more than once.", nameof(devices));
            }
        }

        Devices = deviceArray;
        AxisNames = [.. axes.Select(a => a.Name)];
        AxisSizes = [.. axes.Select(a => a.Size)];
        var shape = new OrderedDictionary<string, int>(StringComparer.Ordinal);
        foreach (MeshAxis axis in axes)
        {
            shape.Add(axis.Name, axis.Size);
        }

        Shape = new ReadOnlyDictionary<string, int>(shape);
    }

    /// <summary>
    /// Gets the mesh entered with <see cref="Activate"/> on the current asynchronous flow, or <see langword="null"/>.
    /// </summary>
    /// <remarks>JAX's <c>with mesh:</c>; it has no effect on any placement or collective, which always take an explicit mesh.</remarks>
    public static Mesh? Current => s_current.Value;

    /// <summary>Gets the devices in row-major order.</summary>
    public ImmutableArray<Device> Devices { get; }

    /// <summary>Gets the axis names in order.</summary>
    public ImmutableArray<string> AxisNames { get; }

    /// <summary>Gets the axis sizes in axis order.</summary>
    public ImmutableArray<int> AxisSizes { get; }

    /// <summary>Gets the ordered map from axis name to size (JAX <c>mesh.shape</c>).</summary>
    public IReadOnlyDictionary<string, int> Shape { get; }

    /// <summary>Gets the number of devices (the product of the axis sizes).</summary>
    public int Size => Devices.Length;

    /// <summary>
    /// Gets the resolved single-axis groups of the participant at a mesh position, kept with the mesh so that a region run
    /// every step over the same mesh resolves its axis names without allocating. Only that position's participant uses it,
    /// and regions over a mesh never overlap on one device.
    /// </summary>
    internal Dictionary<string, AxisGroup> AxisGroupsOf(int deviceIndex) => ParticipantCache(deviceIndex).AxisGroups;

    /// <summary>Gets the coordinate of a mesh position as one array for the mesh's life (groups compare coordinates by reference).</summary>
    internal ImmutableArray<int> CoordinateOf(int deviceIndex) => ParticipantCache(deviceIndex).Coordinate;

    private ParticipantCacheEntry ParticipantCache(int deviceIndex)
    {
        ParticipantCacheEntry?[] caches = Volatile.Read(ref _participantCaches)
            ?? Interlocked.CompareExchange(ref _participantCaches, new ParticipantCacheEntry?[Size], null)
            ?? _participantCaches;
        return caches[deviceIndex] ??= new ParticipantCacheEntry([.. GetCoordinate(deviceIndex)], new Dictionary<string, AxisGroup>(StringComparer.Ordinal));
    }

    private sealed record ParticipantCacheEntry(ImmutableArray<int> Coordinate, Dictionary<string, AxisGroup> AxisGroups);


    /// <summary>Gets the number of axes.</summary>
    public int Rank => AxisNames.Length;

    /// <summary>Gets the device at a mesh coordinate.</summary>
    /// <param name="coordinate">One index per axis.</param>
    /// <returns>The device.</returns>
    /// <exception cref="ArgumentException">The coordinate has the wrong length or an index is out of range.</exception>
    public Device this[params int[] coordinate] => GetDevice(coordinate);

    /// <summary>Gets the device at a mesh coordinate.</summary>
    /// <param name="coordinate">One index per axis.</param>
    /// <returns>The device.</returns>
    /// <exception cref="ArgumentException">The coordinate has the wrong length or an index is out of range.</exception>
    public Device GetDevice(ReadOnlySpan<int> coordinate)
    {
        if (coordinate.Length != Rank)
        {
            throw new ArgumentException($"A coordinate of this mesh has {Rank} indices, not {coordinate.Length}.", nameof(coordinate));
        }

        int flat = 0;
        for (int axis = 0; axis < Rank; axis++)
        {
            if ((uint)coordinate[axis] >= (uint)AxisSizes[axis])
            {
                throw new ArgumentException($"Index {coordinate[axis]} is out of range for mesh axis '{AxisNames[axis]}' of size {AxisSizes[axis]}.", nameof(coordinate));
            }

            flat = (flat * AxisSizes[axis]) + coordinate[axis];
        }

        return Devices[flat];
    }

    /// <summary>Gets the mesh coordinate of the device at a row-major position.</summary>
    /// <param name="deviceIndex">The position in <see cref="Devices"/>.</param>
    /// <returns>One index per axis.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="deviceIndex"/> is out of range.</exception>
    public int[] GetCoordinate(int deviceIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deviceIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(deviceIndex, Size);
        var coordinate = new int[Rank];
        for (int axis = Rank - 1; axis >= 0; axis--)
        {
            coordinate[axis] = deviceIndex % AxisSizes[axis];
            deviceIndex /= AxisSizes[axis];
        }

        return coordinate;
    }

    /// <summary>
    /// Splits the devices into the groups a collective over <paramref name="axisNames"/> reduces within: devices that share
    /// their coordinates on every other axis. Groups are ordered by those other coordinates (row-major), and each group
    /// lists its devices' positions in rank order (row-major over the named axes, major first), as <see cref="AxisGroup"/> ranks them.
    /// </summary>
    /// <param name="axisNames">Axes of this mesh, major first.</param>
    /// <returns>One array of device positions per group.</returns>
    /// <exception cref="ArgumentException">An axis is unknown or repeated.</exception>
    public int[][] GetAxisGroups(params ReadOnlySpan<string> axisNames)
    {
        int[] axes = new int[axisNames.Length];
        int size = 1;
        for (int i = 0; i < axes.Length; i++)
        {
            axes[i] = IndexOfAxis(axisNames[i]);
            if (axes[i] < 0 || Array.IndexOf(axes, axes[i], 0, i) >= 0)
            {
                throw new ArgumentException($"Axis '{axisNames[i]}' is not an axis of {this}, or appears more than once.", nameof(axisNames));
            }

            size *= AxisSizes[axes[i]];
        }

        var groups = new int[Size / size][];
        for (int d = 0; d < Size; d++)
        {
            int[] coordinate = GetCoordinate(d);
            int rank = 0;
            int group = 0;
            for (int axis = 0; axis < Rank; axis++)
            {
                if (Array.IndexOf(axes, axis) < 0)
                {
                    group = (group * AxisSizes[axis]) + coordinate[axis];
                }
            }

            foreach (int axis in axes)
            {
                rank = (rank * AxisSizes[axis]) + coordinate[axis];
            }

            (groups[group] ??= new int[size])[rank] = d;
        }

        return groups;
    }

    /// <summary>Gets the position of an axis, or -1 when the mesh has no such axis.</summary>
    /// <param name="axisName">The axis name.</param>
    /// <returns>The axis position or -1.</returns>
    public int IndexOfAxis(string axisName)
    {
        // A plain loop: ImmutableArray.IndexOf with a comparer allocates, and host-issued collectives call this per call.
        for (int i = 0; i < AxisNames.Length; i++)
        {
            if (string.Equals(AxisNames[i], axisName, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Gets the row-major position of a device, or -1 when it is not in the mesh.</summary>
    /// <param name="device">The device.</param>
    /// <returns>The position or -1.</returns>
    public int IndexOf(Device device) => Devices.IndexOf(device);

    /// <summary>Makes this mesh the ambient <see cref="Current"/> mesh until the returned scope is disposed (JAX <c>with mesh:</c>).</summary>
    /// <returns>A scope that restores the previous ambient mesh.</returns>
    public IDisposable Activate()
    {
        Mesh? previous = s_current.Value;
        s_current.Value = this;
        return new Scope(previous);
    }

    /// <inheritdoc/>
    public bool Equals(Mesh? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (AxisNames.SequenceEqual(other.AxisNames, StringComparer.Ordinal)
                && AxisSizes.SequenceEqual(other.AxisSizes)
                && Devices.SequenceEqual(other.Devices)));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Mesh);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (string name in AxisNames)
        {
            hash.Add(name, StringComparer.Ordinal);
        }

        foreach (Device device in Devices)
        {
            hash.Add(device);
        }

        return hash.ToHashCode();
    }

    /// <summary>Returns JAX's short form, e.g. <c>Mesh('data': 2, 'model': 2)</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() =>
        $"Mesh({string.Join(", ", AxisNames.Select((n, i) => $"'{n}': {AxisSizes[i]}"))})";

    /// <summary>Compares two meshes by value.</summary>
    /// <param name="left">The first mesh.</param>
    /// <param name="right">The second mesh.</param>
    /// <returns><see langword="true"/> when both are null or equal.</returns>
    public static bool operator ==(Mesh? left, Mesh? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Compares two meshes by value.</summary>
    /// <param name="left">The first mesh.</param>
    /// <param name="right">The second mesh.</param>
    /// <returns><see langword="true"/> when the meshes differ.</returns>
    public static bool operator !=(Mesh? left, Mesh? right) => !(left == right);

    internal static void ValidateAxes(IReadOnlyList<MeshAxis> axes, string paramName)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < axes.Count; i++)
        {
            MeshAxis axis = axes[i];
            if (string.IsNullOrEmpty(axis.Name))
            {
                throw new ArgumentException($"Mesh axis {i} has an empty name; every axis needs a unique, non-empty name.", paramName);
            }

            if (!names.Add(axis.Name))
            {
                throw new ArgumentException($"Mesh axis names must be unique, but '{axis.Name}' appears more than once.", paramName);
            }

            if (axis.Size < 1)
            {
                throw new ArgumentException($"Mesh axis '{axis.Name}' has size {axis.Size}; every axis size must be at least 1.", paramName);
            }
        }
    }

    private sealed class Scope(Mesh? previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                s_current.Value = previous;
            }
        }
    }
}
