namespace Artifex.Cuda;

/// <summary>Options of the CUDA provider, bound from <c>Artifex:Cuda</c>.</summary>
public sealed class CudaProviderOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "Artifex:Cuda";

    /// <summary>Gets or sets the GPUs to use, by CUDA ordinal (within <c>CUDA_VISIBLE_DEVICES</c>); <see langword="null"/> means every visible GPU.</summary>
    public IList<int>? DeviceOrdinals { get; set; }

    /// <summary>Gets or sets how long a participant waits in a collective for the others (default 60 s).</summary>
    public TimeSpan CollectiveTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
