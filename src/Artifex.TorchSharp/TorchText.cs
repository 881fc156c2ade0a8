using System.Globalization;

namespace Artifex.TorchSharp;

/// <summary>How the bridge's messages write tensor shapes and strides: as TorchSharp prints them, <c>[8, 3]</c>.</summary>
internal static class TorchText
{
    public static string Dims(long[] dims) => $"[{string.Join(", ", dims.Select(static d => d.ToString(CultureInfo.InvariantCulture)))}]";
}
