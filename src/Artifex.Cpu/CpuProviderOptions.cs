namespace Artifex.Cpu;

/// <summary>Options of the CPU provider, bound from <c>Artifex:Cpu</c> (e.g. <c>Artifex:Cpu:DeviceCount</c>).</summary>
public sealed class CpuProviderOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "Artifex:Cpu";

    /// <summary>Gets or sets the number of emulated devices; <see langword="null"/> reads <c>ARTIFEX_CPU_DEVICES</c>, else 1.</summary>
    public int? DeviceCount { get; set; }

    /// <summary>Gets or sets how many bytes of freed buffers are kept for reuse. Default 1 GiB.</summary>
    public long CachedBytesLimit { get; set; } = CpuProvider.DefaultCachedBytesLimit;

    /// <summary>Gets or sets how long a collective waits for missing participants. Default 60 s.</summary>
    public TimeSpan CollectiveTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Gets or sets how many threads one device's GEMM may use. Default 1: an emulated device is one core, so N devices
    /// run N GEMMs side by side. Results do not depend on it.
    /// </summary>
    public int KernelThreads { get; set; } = 1;
}
