namespace Artifex.Benchmarks;

/// <summary>The GEMM shapes of the kernel issue (M×N×K, row-major, alpha 1, beta 0), named as the OpenBLAS peer names them.</summary>
internal static class GemmShapes
{
    public static readonly IReadOnlyList<(string Name, int M, int N, int K, MatrixOperation TransA, MatrixOperation TransB)> All =
    [
        ("256^3", 256, 256, 256, MatrixOperation.None, MatrixOperation.None),
        ("512^3", 512, 512, 512, MatrixOperation.None, MatrixOperation.None),
        ("1024^3", 1024, 1024, 1024, MatrixOperation.None, MatrixOperation.None),
        ("fwd 256x784*784x512", 256, 512, 784, MatrixOperation.None, MatrixOperation.None),
        ("dW (256x784)^T*256x512", 784, 512, 256, MatrixOperation.Transpose, MatrixOperation.None),
        ("dX 256x512*(784x512)^T", 256, 784, 512, MatrixOperation.None, MatrixOperation.Transpose),
    ];
}
