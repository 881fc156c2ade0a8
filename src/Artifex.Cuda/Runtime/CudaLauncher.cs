using Artifex.Cuda.Native;

namespace Artifex.Cuda.Runtime;

/// <summary>Launches the provider's kernels on a device's stream, with a grid sized for grid-stride loops.</summary>
internal sealed unsafe class CudaLauncher
{
    private const int BlockSize = 256;

    private readonly CudaKernelImage _image;

    public CudaLauncher(CudaKernelImage image)
    {
        _image = image;
    }

    /// <summary>Queues <paramref name="kernel"/> over <paramref name="work"/> threads' worth of work (at least one block).</summary>
    public void Launch(CudaDeviceState state, CudaKernel kernel, long work, void** arguments)
    {
        nint function = state.GetFunction(kernel, _image);

        // Every kernel loops with a grid stride, so a grid of a few waves per multiprocessor covers any size.
        long blocks = Math.Clamp((work + BlockSize - 1) / BlockSize, 1, (long)state.Facts.Multiprocessors * 32);
        CudaCheck.Driver(
            CuDriver.cuLaunchKernel(function, (uint)blocks, 1, 1, BlockSize, 1, 1, 0, state.StreamValue, arguments, null),
            CudaImageKernelName(kernel));
    }

    private static string CudaImageKernelName(CudaKernel kernel) => CudaKernelImage.KernelNames[(int)kernel];
}
