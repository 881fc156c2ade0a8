namespace Artifex.Distributed;

/// <summary>A summary of a mesh: its device count and its axes in order (artifex <c>get_mesh_info</c>).</summary>
/// <param name="TotalDevices">The number of devices (<c>"total_devices"</c>).</param>
/// <param name="Axes">The axis sizes by name, in mesh axis order (<c>"axes"</c>).</param>
public sealed record MeshInfo(int TotalDevices, IReadOnlyDictionary<string, int> Axes);
