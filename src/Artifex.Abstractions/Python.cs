using System.Globalization;

namespace Artifex;

/// <summary>Formats values the way Python's <c>repr</c> does, for messages that keep JAX's texts.</summary>
internal static class Python
{
    public static string Str(string value) => $"'{value}'";

    public static string Tuple(IEnumerable<string> items)
    {
        List<string> list = [.. items];
        return list.Count == 1 ? $"({list[0]},)" : $"({string.Join(", ", list)})";
    }

    public static string List(IEnumerable<string> items) => $"[{string.Join(", ", items)}]";

    public static string Shape(ReadOnlySpan<long> shape)
    {
        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            parts[i] = shape[i].ToString(CultureInfo.InvariantCulture);
        }

        return Tuple(parts);
    }
}
