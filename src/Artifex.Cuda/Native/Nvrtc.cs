using System.Runtime.InteropServices;

namespace Artifex.Cuda.Native;

/// <summary>The NVRTC entry points (<c>libnvrtc.so.13</c> or <c>.12</c>) that compile the kernel source to PTX.</summary>
#pragma warning disable IDE1006, CA1707, SA1300 // the C names
internal static unsafe partial class Nvrtc
{
    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial NvrtcResult nvrtcVersion(int* major, int* minor);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial NvrtcResult nvrtcCreateProgram(nint* program, byte* source, byte* name, int headers, byte** headerSources, byte** headerNames);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial NvrtcResult nvrtcCompileProgram(nint program, int optionCount, byte** options);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial NvrtcResult nvrtcGetProgramLogSize(nint program, nuint* size);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial NvrtcResult nvrtcGetProgramLog(nint program, byte* log);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial NvrtcResult nvrtcGetPTXSize(nint program, nuint* size);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial NvrtcResult nvrtcGetPTX(nint program, byte* ptx);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial NvrtcResult nvrtcGetCUBINSize(nint program, nuint* size);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial NvrtcResult nvrtcGetCUBIN(nint program, byte* cubin);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial NvrtcResult nvrtcDestroyProgram(nint* program);

    [LibraryImport(CudaLibraries.NvrtcName)]
    public static partial byte* nvrtcGetErrorString(NvrtcResult result);
}
#pragma warning restore IDE1006, CA1707, SA1300
