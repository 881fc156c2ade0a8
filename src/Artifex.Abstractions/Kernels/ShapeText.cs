using System.Globalization;
using System.Runtime.InteropServices;

namespace Artifex;

/// <summary>What a kernel operand must hold, for error messages; formatted only when a check fails, so valid calls allocate nothing.</summary>
[StructLayout(LayoutKind.Auto)]
internal readonly struct ShapeText(string format, long first = 0, long second = 0, long third = 0)
{
    public static implicit operator ShapeText(string text) => new(text);

    public override string ToString() => string.Format(CultureInfo.InvariantCulture, format, first, second, third);
}
