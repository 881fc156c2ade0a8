namespace Artifex.Cuda;

/// <summary>Options of the CUDA provider, bound from <c>Artifex:Cuda</c>.</summary>
public sealed class CudaProviderOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "Artifex:Cuda";

    /// <summary>Gets or sets the devices to use (ordinals); <see langword="null"/> means all visible GPUs.</summary>
    public IList<int>? DeviceOrdinals { get; set; }
}
