namespace Artifex;

// The BLAS half of the kernel contract, shaped after cuBLAS (row-major here; a GPU provider swaps the operands).
public abstract partial class DeviceKernels
{
    /// <summary>
    /// General matrix multiply, <c>C = alpha·op(A)·op(B) + beta·C</c>, row-major, where op(A) is m×k, op(B) is k×n and C is m×n
    /// (cuBLAS <c>Sgemm</c>). With <paramref name="beta"/> = 0, C is not read, so it may hold anything (NaN included).
    /// </summary>
    /// <param name="transA">Whether A is stored as m×k (<see cref="MatrixOperation.None"/>) or as k×m (<see cref="MatrixOperation.Transpose"/>).</param>
    /// <param name="transB">Whether B is stored as k×n or as n×k.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="alpha">The multiplier of the product.</param>
    /// <param name="a">A's buffer.</param>
    /// <param name="lda">A's leading dimension (the distance between its stored rows), at least its stored column count.</param>
    /// <param name="b">B's buffer.</param>
    /// <param name="ldb">B's leading dimension.</param>
    /// <param name="beta">The multiplier of C's old value.</param>
    /// <param name="c">C's buffer; it must not overlap A or B.</param>
    /// <param name="ldc">C's leading dimension, at least <paramref name="n"/>.</param>
    /// <remarks>
    /// Each element of C is one dot product over k in ascending order (the CPU provider never splits k across threads),
    /// so results do not depend on the thread count. They may differ in the last bits between SIMD widths and providers.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative, an operation is undefined, or a leading dimension is smaller than its row length.</exception>
    /// <exception cref="ArgumentException">A buffer is too short for its matrix, is not Single, or is on another device or provider; C is the same buffer as A or B.</exception>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    public void Gemm(
        MatrixOperation transA,
        MatrixOperation transB,
        int m,
        int n,
        int k,
        float alpha,
        DeviceBuffer a,
        int lda,
        DeviceBuffer b,
        int ldb,
        float beta,
        DeviceBuffer c,
        int ldc)
    {
        CheckOperation(transA, nameof(transA));
        CheckOperation(transB, nameof(transB));
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        (int aRows, int aColumns) = transA == MatrixOperation.None ? (m, k) : (k, m);
        (int bRows, int bColumns) = transB == MatrixOperation.None ? (k, n) : (n, k);
        Device device = CheckMatrix(a, aRows, aColumns, lda, null, nameof(a), nameof(lda));
        CheckMatrix(b, bRows, bColumns, ldb, device, nameof(b), nameof(ldb));
        CheckMatrix(c, m, n, ldc, device, nameof(c), nameof(ldc));
        if (ReferenceEquals(c, a) || ReferenceEquals(c, b))
        {
            throw new ArgumentException($"c: the output {c} is also an input; GEMM cannot run in place.", nameof(c));
        }

        GemmCore(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>General matrix multiply on densely stored matrices (each leading dimension is its stored row length).</summary>
    /// <param name="transA">How A is stored.</param>
    /// <param name="transB">How B is stored.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="alpha">The multiplier of the product.</param>
    /// <param name="a">A's buffer.</param>
    /// <param name="b">B's buffer.</param>
    /// <param name="beta">The multiplier of C's old value.</param>
    /// <param name="c">C's buffer.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or an operation is undefined.</exception>
    /// <exception cref="ArgumentException">A buffer is too short, is not Single, or is on another device or provider.</exception>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    public void Gemm(MatrixOperation transA, MatrixOperation transB, int m, int n, int k, float alpha, DeviceBuffer a, DeviceBuffer b, float beta, DeviceBuffer c) =>
        Gemm(
            transA,
            transB,
            m,
            n,
            k,
            alpha,
            a,
            Math.Max(1, transA == MatrixOperation.None ? k : m),
            b,
            Math.Max(1, transB == MatrixOperation.None ? n : k),
            beta,
            c,
            Math.Max(1, n));

    /// <summary><c>y = alpha·x + y</c> (cuBLAS <c>Saxpy</c>).</summary>
    /// <param name="alpha">The multiplier of x.</param>
    /// <param name="x">The input.</param>
    /// <param name="y">The accumulator, same length as x.</param>
    /// <exception cref="ArgumentException">The lengths differ, or a buffer is not Single or is on another device or provider.</exception>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    public void Axpy(float alpha, DeviceBuffer x, DeviceBuffer y)
    {
        Device device = CheckBuffer<float>(x, 0, "a vector", null, nameof(x));
        CheckExact<float>(y, x.Length, device, nameof(y));
        AxpyCore(alpha, x, y);
    }

    /// <summary><c>x = alpha·x</c> in place (cuBLAS <c>Sscal</c>, <c>Dscal</c>), <paramref name="alpha"/> converted to the element type once.</summary>
    /// <param name="alpha">The multiplier.</param>
    /// <param name="x">A Single or Double buffer, scaled in place.</param>
    /// <exception cref="ArgumentException">The buffer is not Single or Double, or belongs to another provider.</exception>
    /// <exception cref="ObjectDisposedException">The provider or the buffer has been disposed.</exception>
    public void Scale(double alpha, DeviceBuffer x)
    {
        CheckFloating(x, nameof(x));
        ScaleCore(x, alpha, divide: false);
    }

    /// <summary>
    /// <c>x = x / divisor</c> in place, <paramref name="divisor"/> converted to the element type once: one rounding per
    /// element, unlike scaling by 1/divisor (the second half of a mean).
    /// </summary>
    /// <param name="x">A Single or Double buffer, divided in place.</param>
    /// <param name="divisor">The divisor.</param>
    /// <exception cref="ArgumentException">The buffer is not Single or Double, or belongs to another provider.</exception>
    /// <exception cref="ObjectDisposedException">The provider or the buffer has been disposed.</exception>
    public void Divide(DeviceBuffer x, double divisor)
    {
        CheckFloating(x, nameof(x));
        ScaleCore(x, divisor, divide: true);
    }

    /// <summary>Runs a validated GEMM.</summary>
    /// <param name="transA">How A is stored.</param>
    /// <param name="transB">How B is stored.</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="k">The inner dimension.</param>
    /// <param name="alpha">The multiplier of the product.</param>
    /// <param name="a">A.</param>
    /// <param name="lda">A's leading dimension.</param>
    /// <param name="b">B.</param>
    /// <param name="ldb">B's leading dimension.</param>
    /// <param name="beta">The multiplier of C.</param>
    /// <param name="c">C.</param>
    /// <param name="ldc">C's leading dimension.</param>
    protected abstract void GemmCore(
        MatrixOperation transA,
        MatrixOperation transB,
        int m,
        int n,
        int k,
        float alpha,
        DeviceBuffer a,
        int lda,
        DeviceBuffer b,
        int ldb,
        float beta,
        DeviceBuffer c,
        int ldc);

    /// <summary>Runs a validated axpy.</summary>
    /// <param name="alpha">The multiplier.</param>
    /// <param name="x">The input.</param>
    /// <param name="y">The accumulator.</param>
    protected abstract void AxpyCore(float alpha, DeviceBuffer x, DeviceBuffer y);

    /// <summary>Multiplies or divides a validated Single or Double buffer in place.</summary>
    /// <param name="x">The buffer.</param>
    /// <param name="factor">The multiplier or divisor.</param>
    /// <param name="divide">True to divide.</param>
    protected abstract void ScaleCore(DeviceBuffer x, double factor, bool divide);

    private static void CheckOperation(MatrixOperation operation, string paramName)
    {
        if (operation is not (MatrixOperation.None or MatrixOperation.Transpose))
        {
            throw new ArgumentOutOfRangeException(paramName, operation, "A GEMM operand is read as stored (None) or transposed (Transpose).");
        }
    }

    private Device CheckMatrix(DeviceBuffer buffer, int rows, int columns, int leadingDimension, Device? device, string paramName, string ldName)
    {
        if (leadingDimension < Math.Max(1, columns))
        {
            throw new ArgumentOutOfRangeException(
                ldName,
                leadingDimension,
                $"{paramName} is stored as {rows}×{columns}, so its leading dimension must be at least {Math.Max(1, columns)}.");
        }

        long required = rows == 0 || columns == 0 ? 0 : ((long)(rows - 1) * leadingDimension) + columns;
        return CheckBuffer<float>(buffer, required, new ShapeText("a {0}×{1} matrix with leading dimension {2}", rows, columns, leadingDimension), device, paramName);
    }
}
