using System.Runtime.CompilerServices;

namespace Artifex.Cuda.Native;

/// <summary>NCCL's 128-byte <c>ncclUniqueId</c>, passed by value to <c>ncclCommInitRank</c>.</summary>
[InlineArray(Size)]
internal struct NcclUniqueId
{
    public const int Size = 128;

    private byte _element0;
}
