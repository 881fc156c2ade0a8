namespace Artifex;

// The provider's kernels.
public abstract partial class DeviceProvider
{
    /// <summary>Gets the kernel contract of this provider (GEMM, scaling, elementwise, loss and optimizer kernels).</summary>
    /// <exception cref="NotSupportedException">The provider has no kernels.</exception>
    public virtual DeviceKernels Kernels => throw new NotSupportedException($"The {Platform} provider has no kernels.");
}
