namespace Artifex.Cuda.Runtime;

/// <summary>Splits a mesh's devices into the groups a host-issued collective over some axes reduces within.</summary>
internal static class ShardGroups
{
    /// <summary>Gets each group's mesh device indices in rank order (row-major over the named axes, major first).</summary>
    public static List<int[]> Of(Mesh mesh, ReadOnlySpan<string> axisNames)
    {
        int[] axes = new int[axisNames.Length];
        for (int i = 0; i < axes.Length; i++)
        {
            axes[i] = mesh.IndexOfAxis(axisNames[i]);
        }

        int size = 1;
        foreach (int axis in axes)
        {
            size *= mesh.AxisSizes[axis];
        }

        var groups = new Dictionary<int, int[]>();
        for (int d = 0; d < mesh.Size; d++)
        {
            var coordinate = mesh.GetCoordinate(d);
            int rank = 0;
            foreach (int axis in axes)
            {
                rank = (rank * mesh.AxisSizes[axis]) + coordinate[axis];
            }

            int groupIndex = 0;
            for (int axis = 0; axis < mesh.AxisSizes.Length; axis++)
            {
                if (Array.IndexOf(axes, axis) < 0)
                {
                    groupIndex = (groupIndex * mesh.AxisSizes[axis]) + coordinate[axis];
                }
            }

            if (!groups.TryGetValue(groupIndex, out int[]? members))
            {
                members = new int[size];
                groups.Add(groupIndex, members);
            }

            members[rank] = d;
        }

        return [.. groups.OrderBy(static g => g.Key).Select(static g => g.Value)];
    }
}
