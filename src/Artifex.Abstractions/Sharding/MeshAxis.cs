using System.Runtime.InteropServices;

namespace Artifex;

/// <summary>One named axis of a <see cref="Mesh"/> and its size.</summary>
/// <param name="Name">The axis name, unique within its mesh and not empty.</param>
/// <param name="Size">The number of devices along the axis (at least 1 in a valid mesh).</param>
[StructLayout(LayoutKind.Auto)]
public readonly record struct MeshAxis(string Name, int Size)
{
    /// <summary>Converts a <c>(name, size)</c> pair, as in <c>[("data", 2), ("model", 1)]</c>.</summary>
    /// <param name="axis">The pair.</param>
    public static implicit operator MeshAxis((string Name, int Size) axis) => new(axis.Name, axis.Size);

    /// <summary>Converts a <c>(name, size)</c> pair.</summary>
    /// <param name="axis">The pair.</param>
    /// <returns>The axis.</returns>
    public static MeshAxis FromValueTuple((string Name, int Size) axis) => axis;
}
