using Artifex.Conformance;
using Artifex.Cuda.Native;
using Artifex.Cuda.Runtime;

namespace Artifex.Cuda.Tests;

/// <summary>GPU memory allocated outside the provider (<c>cuMemAlloc</c> in the GPU's primary context), as libtorch's allocator would hand it over.</summary>
internal static class GpuForeignMemory
{
    public static unsafe ForeignMemory Allocate(DeviceProvider provider, Device device, long bytes)
    {
        CudaDeviceState state = ((CudaProvider)provider).GetState(device);
        state.MakeCurrent();
        ulong pointer;
        CudaCheck.Driver(CuDriver.cuMemAlloc_v2(&pointer, (nuint)Math.Max(bytes, 1)), "cuMemAlloc_v2");
        return new ForeignMemory((nint)pointer, address =>
        {
            state.MakeCurrent();
            CudaCheck.Driver(CuDriver.cuMemFree_v2((ulong)address), "cuMemFree_v2");
        });
    }
}
