using System.Runtime.InteropServices;

namespace Artifex.Cuda.Native;

/// <summary>The cuBLAS v2 entry points (<c>libcublas.so.13</c> or <c>.12</c>); column-major, host pointer mode.</summary>
#pragma warning disable IDE1006, CA1707, SA1300 // the C names
internal static unsafe partial class Cublas
{
    public const int PedanticMath = 2;
    public const int PropertyMajor = 0;
    public const int PropertyMinor = 1;
    public const int PropertyPatch = 2;

    [LibraryImport(CudaLibraries.CublasName)]
    public static partial CublasStatus cublasCreate_v2(nint* handle);

    [LibraryImport(CudaLibraries.CublasName)]
    public static partial CublasStatus cublasDestroy_v2(nint handle);

    [LibraryImport(CudaLibraries.CublasName)]
    public static partial CublasStatus cublasGetProperty(int type, int* value);

    [LibraryImport(CudaLibraries.CublasName)]
    public static partial CublasStatus cublasSetStream_v2(nint handle, nint stream);

    [LibraryImport(CudaLibraries.CublasName)]
    public static partial CublasStatus cublasSetMathMode(nint handle, int mode);

    [LibraryImport(CudaLibraries.CublasName)]
    public static partial CublasStatus cublasSgemm_v2(
        nint handle, CublasOperation transA, CublasOperation transB, int m, int n, int k,
        float* alpha, ulong a, int lda, ulong b, int ldb, float* beta, ulong c, int ldc);

    [LibraryImport(CudaLibraries.CublasName)]
    public static partial CublasStatus cublasSaxpy_v2(nint handle, int n, float* alpha, ulong x, int incX, ulong y, int incY);

    [LibraryImport(CudaLibraries.CublasName)]
    public static partial CublasStatus cublasSscal_v2(nint handle, int n, float* alpha, ulong x, int incX);

    [LibraryImport(CudaLibraries.CublasName)]
    public static partial byte* cublasGetStatusName(CublasStatus status);

    [LibraryImport(CudaLibraries.CublasName)]
    public static partial byte* cublasGetStatusString(CublasStatus status);
}
#pragma warning restore IDE1006, CA1707, SA1300
