using TorchSharp;

namespace Artifex.TorchSharp;

/// <summary>The .NET element type of each libtorch dtype a view supports.</summary>
internal static class TorchElementTypes
{
    /// <summary>Gets the element type that holds a dtype's values bit for bit, or null when the bridge has none.</summary>
    public static Type? Of(torch.ScalarType dtype) => dtype switch
    {
        torch.ScalarType.Float32 => typeof(float),
        torch.ScalarType.Float64 => typeof(double),
        torch.ScalarType.Float16 => typeof(Half),
        torch.ScalarType.Int32 => typeof(int),
        torch.ScalarType.Int64 => typeof(long),
        torch.ScalarType.Int16 => typeof(short),
        torch.ScalarType.Int8 => typeof(sbyte),
        torch.ScalarType.Byte => typeof(byte),
        _ => null,
    };
}
