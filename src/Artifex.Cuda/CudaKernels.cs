using Artifex.Cuda.Native;
using Artifex.Cuda.Runtime;

namespace Artifex.Cuda;

/// <summary>
/// The kernel contract on a GPU: GEMM, axpy and scale on cuBLAS (row-major calls mapped onto column-major by swapping
/// the operands), the rest as NVRTC-compiled kernels. Everything is queued on the device's stream.
/// </summary>
internal sealed unsafe partial class CudaKernels : DeviceKernels
{
    private readonly CudaProvider _provider;

    public CudaKernels(CudaProvider provider)
        : base(provider)
    {
        _provider = provider;
    }

    protected override void GemmCore(
        MatrixOperation transA, MatrixOperation transB, int m, int n, int k, float alpha, DeviceBuffer a, int lda, DeviceBuffer b, int ldb, float beta, DeviceBuffer c, int ldc)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        CudaDeviceState state = Enter(c);

        // Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ over the same memory: swap the operands, keep the ops.
        CudaCheck.Blas(
            Cublas.cublasSgemm_v2(state.Blas, ToCublas(transB), ToCublas(transA), n, m, k, &alpha, Address(b), ldb, Address(a), lda, &beta, Address(c), ldc),
            "cublasSgemm_v2");
    }

    protected override void AxpyCore(float alpha, DeviceBuffer x, DeviceBuffer y)
    {
        if (x.Length == 0)
        {
            return;
        }

        CudaDeviceState state = Enter(y);
        CudaCheck.Blas(Cublas.cublasSaxpy_v2(state.Blas, checked((int)x.Length), &alpha, Address(x), 1, Address(y), 1), "cublasSaxpy_v2");
    }

    protected override void ScaleCore(DeviceBuffer x, double factor, bool divide)
    {
        if (divide || x.ElementType != typeof(float))
        {
            // cuBLAS has no division; division and Double scaling run the provider's scale kernels (one rounding each).
            _provider.Scale((CudaBuffer)x, factor, divide);
            return;
        }

        if (x.Length == 0)
        {
            return;
        }

        float alpha = (float)factor;
        CudaDeviceState state = Enter(x);
        CudaCheck.Blas(Cublas.cublasSscal_v2(state.Blas, checked((int)x.Length), &alpha, Address(x), 1), "cublasSscal_v2");
    }

    protected override void FillCore(DeviceBuffer x, float value)
    {
        if (x.Length == 0)
        {
            return;
        }

        CudaDeviceState state = Enter(x);
        CudaCheck.Driver(CuDriver.cuMemsetD32Async(Address(x), BitConverter.SingleToUInt32Bits(value), (nuint)x.Length, state.StreamValue), "cuMemsetD32Async");
    }

    protected override void AddCore(DeviceBuffer x, DeviceBuffer y, DeviceBuffer result) => Binary(CudaKernel.Add, x, y, result);

    protected override void MultiplyCore(DeviceBuffer x, DeviceBuffer y, DeviceBuffer result) => Binary(CudaKernel.Multiply, x, y, result);

    protected override void ConvertCore(DeviceBuffer source, DeviceBuffer destination, float divisor)
    {
        long n = source.Length;
        if (n == 0)
        {
            return;
        }

        CudaDeviceState state = Enter(destination);
        ulong input = Address(source), output = Address(destination);
        if (source.ElementType == typeof(Half))
        {
            void** toSingle = stackalloc void*[] { &input, &output, &n };
            _provider.Launcher.Launch(state, CudaKernel.ConvertHalfToSingle, n, toSingle);
            return;
        }

        void** toHalf = stackalloc void*[] { &input, &output, &n, &divisor };
        _provider.Launcher.Launch(state, CudaKernel.ConvertSingleToHalf, n, toHalf);
    }

    protected override void ReluCore(DeviceBuffer x, DeviceBuffer result)
    {
        long n = x.Length;
        if (n == 0)
        {
            return;
        }

        CudaDeviceState state = Enter(result);
        ulong input = Address(x), output = Address(result);
        void** arguments = stackalloc void*[] { &input, &output, &n };
        _provider.Launcher.Launch(state, CudaKernel.Relu, n, arguments);
    }

    protected override void ReluBackwardCore(DeviceBuffer gradOutput, DeviceBuffer output, DeviceBuffer gradInput) =>
        Binary(CudaKernel.ReluBackward, gradOutput, output, gradInput);

    protected override void AddBiasCore(DeviceBuffer matrix, int rows, int columns, DeviceBuffer bias)
    {
        if (rows == 0 || columns == 0)
        {
            return;
        }

        CudaDeviceState state = Enter(matrix);
        ulong values = Address(matrix), row = Address(bias);
        void** arguments = stackalloc void*[] { &values, &row, &rows, &columns };
        _provider.Launcher.Launch(state, CudaKernel.AddBias, (long)rows * columns, arguments);
    }

    protected override void ColumnSumsCore(DeviceBuffer matrix, int rows, int columns, DeviceBuffer sums)
    {
        if (columns == 0)
        {
            return;
        }

        CudaDeviceState state = Enter(sums);
        ulong values = Address(matrix), result = Address(sums);
        void** arguments = stackalloc void*[] { &values, &rows, &columns, &result };
        _provider.Launcher.Launch(state, CudaKernel.ColumnSums, columns, arguments);
    }

    private void Binary(CudaKernel kernel, DeviceBuffer x, DeviceBuffer y, DeviceBuffer result)
    {
        long n = x.Length;
        if (n == 0)
        {
            return;
        }

        CudaDeviceState state = Enter(result);
        ulong first = Address(x), second = Address(y), output = Address(result);
        void** arguments = stackalloc void*[] { &first, &second, &output, &n };
        _provider.Launcher.Launch(state, kernel, n, arguments);
    }

    private static CudaDeviceState Enter(DeviceBuffer buffer)
    {
        CudaDeviceState state = ((CudaBuffer)buffer).State;
        state.MakeCurrent();
        return state;
    }

    private static ulong Address(DeviceBuffer buffer) => ((CudaBuffer)buffer).Pointer;

    private static CublasOperation ToCublas(MatrixOperation operation) =>
        operation == MatrixOperation.Transpose ? CublasOperation.Transpose : CublasOperation.None;
}
