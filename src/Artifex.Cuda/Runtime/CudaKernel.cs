namespace Artifex.Cuda.Runtime;

/// <summary>The kernels of <c>artifex_kernels.cu</c>, in the order of <see cref="CudaKernelImage.KernelNames"/>.</summary>
internal enum CudaKernel
{
    Add,
    Multiply,
    Relu,
    ReluBackward,
    AddBias,
    ColumnSums,
    SoftmaxCrossEntropy,
    SoftmaxCrossEntropyBackward,
    Adam,
    Sgd,
    SgdMomentum,
    ReproducibleReset,
    ReproducibleSetBias,
    ReproducibleDepositSingle,
    ReproducibleDepositHalf,
    ReproducibleMerge,
    ReproducibleFinalizeSingle,
    ReproducibleFinalizeHalf,
    FindOutsideWindowSingle,
    FindOutsideWindowHalf,
    ScaleSingle,
    ScaleDouble,
    ScaleHalf,
    CanonicalizeNaNSingle,
    CanonicalizeNaNHalf,
    ConvertSingleToHalf,
    ConvertHalfToSingle,
}
