namespace Artifex.Cuda.Native;

/// <summary>NCCL's <c>ncclRedOp_t</c>.</summary>
internal enum NcclRedOp
{
    Sum = 0,
    Prod = 1,
    Max = 2,
    Min = 3,
    Avg = 4,
}
