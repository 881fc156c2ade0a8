using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Artifex.Conformance;

/// <summary>
/// Host-side references for the collective tests, computed without the library's own group logic: group members
/// from mesh coordinates, reductions element by element in rank order (<c>((x0 ∘ x1) ∘ x2) ∘ …</c>), and a bit-exact
/// comparison.
/// </summary>
internal static class CollectiveReference
{
    /// <summary>The mesh positions of the participants that share a group with <paramref name="deviceIndex"/>, in rank order.</summary>
    /// <param name="mesh">The mesh.</param>
    /// <param name="deviceIndex">A row-major mesh position.</param>
    /// <param name="axes">The reduced axes, major first.</param>
    /// <returns>Member <c>r</c> is the mesh position of rank <c>r</c>.</returns>
    public static int[] GroupMembers(Mesh mesh, int deviceIndex, IReadOnlyList<string> axes)
    {
        int[] coordinate = RowMajorCoordinate(mesh, deviceIndex);
        int size = 1;
        foreach (string axis in axes)
        {
            size *= mesh.AxisSizes[mesh.IndexOfAxis(axis)];
        }

        var members = new int[size];
        for (int rank = 0; rank < size; rank++)
        {
            int[] c = (int[])coordinate.Clone();
            int rest = rank;
            for (int j = axes.Count - 1; j >= 0; j--)
            {
                int axis = mesh.IndexOfAxis(axes[j]);
                c[axis] = rest % mesh.AxisSizes[axis];
                rest /= mesh.AxisSizes[axis];
            }

            members[rank] = RowMajorIndex(mesh, c);
        }

        return members;
    }

    /// <summary>The rank of <paramref name="deviceIndex"/> along the axes: row-major over the axes in the order given.</summary>
    public static int RankOf(Mesh mesh, int deviceIndex, IReadOnlyList<string> axes)
    {
        int[] coordinate = RowMajorCoordinate(mesh, deviceIndex);
        int rank = 0;
        foreach (string name in axes)
        {
            int axis = mesh.IndexOfAxis(name);
            rank = (rank * mesh.AxisSizes[axis]) + coordinate[axis];
        }

        return rank;
    }

    public static int[] RowMajorCoordinate(Mesh mesh, int deviceIndex)
    {
        var coordinate = new int[mesh.Rank];
        for (int axis = mesh.Rank - 1; axis >= 0; axis--)
        {
            coordinate[axis] = deviceIndex % mesh.AxisSizes[axis];
            deviceIndex /= mesh.AxisSizes[axis];
        }

        return coordinate;
    }

    public static int RowMajorIndex(Mesh mesh, int[] coordinate)
    {
        int flat = 0;
        for (int axis = 0; axis < mesh.Rank; axis++)
        {
            flat = (flat * mesh.AxisSizes[axis]) + coordinate[axis];
        }

        return flat;
    }

    /// <summary>One step of a reduction: <c>acc ∘ x</c>.</summary>
    public static T Combine<T>(ReduceOp op, T acc, T x)
        where T : INumber<T> => op switch
        {
            ReduceOp.Max => T.Max(acc, x),
            ReduceOp.Min => T.Min(acc, x),
            _ => acc + x,
        };

    /// <summary>The reduction of the members' inputs, element by element, in rank order; the mean divides the rank-order sum once.</summary>
    /// <param name="inputs">The input of every mesh position.</param>
    /// <param name="members">The group's mesh positions in rank order.</param>
    /// <param name="op">The reduction.</param>
    /// <returns>The reduced elements.</returns>
    public static T[] Reduce<T>(IReadOnlyList<T[]> inputs, int[] members, ReduceOp op)
        where T : unmanaged, INumber<T>
    {
        int length = inputs[members[0]].Length;
        var result = new T[length];
        T count = T.CreateChecked(members.Length);
        for (int i = 0; i < length; i++)
        {
            T acc = inputs[members[0]][i];
            for (int r = 1; r < members.Length; r++)
            {
                acc = Combine(op, acc, inputs[members[r]][i]);
            }

            result[i] = op == ReduceOp.Mean ? acc / count : acc;
        }

        return result;
    }

    /// <summary>Values whose sum depends on the order of addition: half in ±1e6, half in ±1e-3, from a fixed seed.</summary>
    public static float[] MixedFloats(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            double scale = random.Next(2) == 0 ? 1e6 : 1e-3;
            values[i] = (float)(((random.NextDouble() * 2) - 1) * scale);
        }

        return values;
    }

    /// <summary>Double values whose sum depends on the order of addition (magnitudes from 1e-8 to 1e12).</summary>
    public static double[] MixedDoubles(Random random, int length)
    {
        var values = new double[length];
        for (int i = 0; i < length; i++)
        {
            double scale = random.Next(2) == 0 ? 1e12 : 1e-8;
            values[i] = ((random.NextDouble() * 2) - 1) * scale;
        }

        return values;
    }

    public static int[] Ints(Random random, int length)
    {
        var values = new int[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = random.Next(-1_000_000, 1_000_000);
        }

        return values;
    }

    public static long[] Longs(Random random, int length)
    {
        var values = new long[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = random.NextInt64(-1_000_000_000_000_000, 1_000_000_000_000_000);
        }

        return values;
    }

    /// <summary>Asserts that two arrays hold the same bits (so +0 differs from −0 and NaN payloads count).</summary>
    public static void AssertBitEqual<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string what)
        where T : unmanaged
    {
        Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} elements, got {actual.Length}.");
        if (MemoryMarshal.AsBytes(expected).SequenceEqual(MemoryMarshal.AsBytes(actual)))
        {
            return;
        }

        int mismatches = 0;
        int first = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            if (!MemoryMarshal.AsBytes(expected.Slice(i, 1)).SequenceEqual(MemoryMarshal.AsBytes(actual.Slice(i, 1))))
            {
                mismatches++;
                first = first < 0 ? i : first;
            }
        }

        Assert.Fail(string.Create(
            CultureInfo.InvariantCulture,
            $"{what}: {mismatches} of {expected.Length} elements differ in their bits; the first is element {first}: expected {Format(expected[first])}, got {Format(actual[first])}."));
    }

    private static string Format<T>(T value)
        where T : unmanaged => value switch
        {
            float f => string.Create(CultureInfo.InvariantCulture, $"{f:R} (0x{BitConverter.SingleToInt32Bits(f):X8})"),
            double d => string.Create(CultureInfo.InvariantCulture, $"{d:R} (0x{BitConverter.DoubleToInt64Bits(d):X16})"),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
        };
}
