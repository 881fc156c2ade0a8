using System.Runtime.InteropServices;

namespace Artifex.Cuda.Native;

/// <summary>
/// The CUDA driver API entry points the provider uses (<c>libcuda.so.1</c>), imported by their exported symbol names
/// (the <c>_v2</c> forms that cuda.h's macros hide). Never the per-thread-default-stream variants.
/// </summary>
#pragma warning disable IDE1006, CA1707, SA1300 // the C names, so the bindings read as the documentation
internal static unsafe partial class CuDriver
{
    public const uint StreamNonBlocking = 1;
    public const uint EventDisableTiming = 2;
    public const int AttributeMultiprocessorCount = 16;
    public const int AttributeComputeCapabilityMajor = 75;
    public const int AttributeComputeCapabilityMinor = 76;

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuInit(uint flags);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuDriverGetVersion(int* version);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuDeviceGetCount(int* count);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuDeviceGet(int* device, int ordinal);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuDeviceGetName(byte* name, int length, int device);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuDeviceGetAttribute(int* value, int attribute, int device);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuDeviceTotalMem_v2(nuint* bytes, int device);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuDevicePrimaryCtxRetain(nint* context, int device);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuDevicePrimaryCtxRelease_v2(int device);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuCtxSetCurrent(nint context);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuCtxGetCurrent(nint* context);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuMemGetInfo_v2(nuint* free, nuint* total);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuMemAlloc_v2(ulong* pointer, nuint bytes);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuMemFree_v2(ulong pointer);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuMemcpyHtoDAsync_v2(ulong destination, void* source, nuint bytes, nint stream);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuMemcpyDtoHAsync_v2(void* destination, ulong source, nuint bytes, nint stream);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuMemcpyDtoDAsync_v2(ulong destination, ulong source, nuint bytes, nint stream);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuMemcpyPeerAsync(ulong destination, nint destinationContext, ulong source, nint sourceContext, nuint bytes, nint stream);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuMemsetD32Async(ulong destination, uint value, nuint count, nint stream);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuMemsetD8Async(ulong destination, byte value, nuint count, nint stream);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuStreamCreate(nint* stream, uint flags);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuStreamSynchronize(nint stream);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuStreamDestroy_v2(nint stream);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuStreamWaitEvent(nint stream, nint cudaEvent, uint flags);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuEventCreate(nint* cudaEvent, uint flags);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuEventRecord(nint cudaEvent, nint stream);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuEventSynchronize(nint cudaEvent);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuEventElapsedTime(float* milliseconds, nint start, nint end);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuEventDestroy_v2(nint cudaEvent);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuMemAllocHost_v2(void** pointer, nuint bytes);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuMemFreeHost(void* pointer);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuModuleLoadData(nint* module, void* image);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuModuleUnload(nint module);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuModuleGetFunction(nint* function, nint module, byte* name);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuLaunchKernel(
        nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedBytes, nint stream, void** parameters, void** extra);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuGetErrorName(CuResult error, byte** name);

    [LibraryImport(CudaLibraries.DriverName)]
    public static partial CuResult cuGetErrorString(CuResult error, byte** message);
}
#pragma warning restore IDE1006, CA1707, SA1300
