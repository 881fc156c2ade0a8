namespace Artifex;

/// <summary>How a GEMM operand is read, with the values of cuBLAS's <c>cublasOperation_t</c>.</summary>
public enum MatrixOperation
{
    /// <summary>The operand as stored (cuBLAS <c>CUBLAS_OP_N</c>).</summary>
    None = 0,

    /// <summary>The transpose of the operand as stored (cuBLAS <c>CUBLAS_OP_T</c>).</summary>
    Transpose = 1,
}
