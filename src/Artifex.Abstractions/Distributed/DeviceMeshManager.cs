using System.Collections.Immutable;
using System.Numerics;

namespace Artifex.Distributed;

/// <summary>
/// Builds device meshes from a snapshot of devices: the port of artifex's <c>DeviceMeshManager</c>.
/// </summary>
/// <remarks>
/// Devices are taken in order and reshaped row-major to the requested shape; when fewer devices are needed
/// than available, the first ones are used. Improvements over the original: axis sizes below 1 and empty or
/// repeated axis names are rejected with <see cref="ArgumentException"/>.
/// </remarks>
public sealed class DeviceMeshManager
{
    private readonly ImmutableArray<Device> _devices;

    /// <summary>Creates a manager over a snapshot of devices.</summary>
    /// <param name="devices">The devices, copied; <see langword="null"/> takes every device of <see cref="DeviceProvider.Default"/> (JAX <c>jax.devices()</c>). An empty list stays empty.</param>
    /// <exception cref="InvalidOperationException"><paramref name="devices"/> is null and no default provider is set.</exception>
    /// <exception cref="ArgumentException">A device is null.</exception>
    public DeviceMeshManager(IEnumerable<Device>? devices = null)
    {
        _devices = devices is null ? [.. DefaultDevices()] : [.. devices];
        if (_devices.Any(static d => d is null))
        {
            throw new ArgumentException("A device is null.", nameof(devices));
        }
    }

    /// <summary>Creates a manager over every device of a provider.</summary>
    /// <param name="provider">The provider.</param>
    public DeviceMeshManager(DeviceProvider provider)
        : this((provider ?? throw new ArgumentNullException(nameof(provider))).Devices)
    {
    }

    /// <summary>Gets the number of devices the manager holds.</summary>
    public int NumDevices => _devices.Length;

    /// <summary>Gets a new copy of the manager's devices, in order.</summary>
    public IReadOnlyList<Device> Devices => [.. _devices];

    /// <summary>Creates a mesh of the given shape from the first devices, row-major.</summary>
    /// <param name="meshShape">The axes in order, e.g. <c>("data", 2), ("model", 1)</c>.</param>
    /// <returns>The mesh.</returns>
    /// <exception cref="ArgumentException">An axis is invalid, or more devices are needed than available ("Not enough devices: …").</exception>
    public Mesh CreateDeviceMesh(params MeshAxis[] meshShape) => CreateDeviceMesh((IEnumerable<MeshAxis>)meshShape, devices: null);

    /// <summary>Creates a mesh from a dictionary-style shape (axes in enumeration order).</summary>
    /// <param name="meshShape">The axis sizes by name, e.g. <c>new Dictionary&lt;string, int&gt; { ["data"] = 2 }</c>.</param>
    /// <param name="devices">Devices to use instead of the manager's, for this call only.</param>
    /// <returns>The mesh.</returns>
    /// <exception cref="ArgumentException">An axis is invalid, or more devices are needed than available.</exception>
    public Mesh CreateDeviceMesh(IEnumerable<KeyValuePair<string, int>> meshShape, IEnumerable<Device>? devices = null)
    {
        ArgumentNullException.ThrowIfNull(meshShape);
        return CreateDeviceMesh(meshShape.Select(static p => new MeshAxis(p.Key, p.Value)), devices);
    }

    /// <summary>Creates a mesh of the given shape from the first devices, row-major (artifex <c>create_device_mesh</c>).</summary>
    /// <param name="meshShape">The axes in order.</param>
    /// <param name="devices">Devices to use instead of the manager's, for this call only.</param>
    /// <returns>The mesh.</returns>
    /// <exception cref="ArgumentException">An axis is invalid, or more devices are needed than available ("Not enough devices: mesh requires {n} devices but only {m} available.").</exception>
    public Mesh CreateDeviceMesh(IEnumerable<MeshAxis> meshShape, IEnumerable<Device>? devices)
    {
        ArgumentNullException.ThrowIfNull(meshShape);
        MeshAxis[] axes = [.. meshShape];
        Mesh.ValidateAxes(axes, nameof(meshShape));
        ImmutableArray<Device> available = devices is null ? _devices : [.. devices];
        BigInteger total = BigInteger.One;
        foreach (MeshAxis axis in axes)
        {
            total *= axis.Size;
        }

        if (total > available.Length)
        {
            throw new ArgumentException(ErrorMessages.NotEnoughDevices(total, available.Length), nameof(meshShape));
        }

        return new Mesh(available.Take((int)total), axes);
    }

    /// <summary>Creates a 1-D mesh for data parallelism (artifex <c>create_data_parallel_mesh</c>).</summary>
    /// <param name="numDevices">The number of devices; <see langword="null"/> uses all of the manager's devices.</param>
    /// <param name="axisName">The axis name.</param>
    /// <returns>A mesh of shape <c>(n,)</c>.</returns>
    /// <exception cref="ArgumentException">The count is below 1 or above the available devices, or the name is empty.</exception>
    public Mesh CreateDataParallelMesh(int? numDevices = null, string axisName = "data") =>
        CreateDeviceMesh(new MeshAxis(axisName, numDevices ?? NumDevices));

    /// <summary>Creates a 1-D mesh for model parallelism (artifex <c>create_model_parallel_mesh</c>).</summary>
    /// <param name="numDevices">The number of devices; <see langword="null"/> uses all of the manager's devices.</param>
    /// <param name="axisName">The axis name.</param>
    /// <returns>A mesh of shape <c>(n,)</c>.</returns>
    /// <exception cref="ArgumentException">The count is below 1 or above the available devices, or the name is empty.</exception>
    public Mesh CreateModelParallelMesh(int? numDevices = null, string axisName = "model") =>
        CreateDeviceMesh(new MeshAxis(axisName, numDevices ?? NumDevices));

    /// <summary>Creates a 2-D (data, model) mesh (artifex <c>create_hybrid_mesh</c>). No size is inferred.</summary>
    /// <param name="dataParallelSize">The size of the data axis.</param>
    /// <param name="modelParallelSize">The size of the model axis.</param>
    /// <param name="dataAxis">The data axis name.</param>
    /// <param name="modelAxis">The model axis name.</param>
    /// <returns>A mesh of shape <c>(dp, mp)</c>.</returns>
    /// <exception cref="ArgumentException">A size is below 1, the names are empty or equal, or <c>dp·mp</c> exceeds the available devices.</exception>
    public Mesh CreateHybridMesh(int dataParallelSize = 1, int modelParallelSize = 1, string dataAxis = "data", string modelAxis = "model") =>
        CreateDeviceMesh(new MeshAxis(dataAxis, dataParallelSize), new MeshAxis(modelAxis, modelParallelSize));

    /// <summary>Summarizes a mesh (artifex <c>get_mesh_info</c>).</summary>
    /// <param name="mesh">The mesh.</param>
    /// <returns>The device count and the axes in mesh order.</returns>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "Mirrors artifex's instance method get_mesh_info.")]
    public MeshInfo GetMeshInfo(Mesh mesh)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        return new MeshInfo(mesh.Size, mesh.Shape);
    }

    private static IReadOnlyList<Device> DefaultDevices() =>
        DeviceProvider.Default?.Devices
        ?? throw new InvalidOperationException(
            "No devices were given and DeviceProvider.Default is not set. Pass devices (e.g. new DeviceMeshManager(provider)) or set DeviceProvider.Default to a provider such as Artifex.Cpu.CpuProvider.");
}
