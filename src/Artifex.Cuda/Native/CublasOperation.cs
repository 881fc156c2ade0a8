namespace Artifex.Cuda.Native;

/// <summary>cuBLAS's <c>cublasOperation_t</c>.</summary>
internal enum CublasOperation
{
    None = 0,
    Transpose = 1,
}
