using System.Runtime.Intrinsics;

namespace Artifex.Cpu.Kernels;

/// <summary>An elementwise binary reduction, in TensorPrimitives' operator shape: one scalar and one vector form per width.</summary>
/// <typeparam name="T">The element type.</typeparam>
internal interface IReduceOperator<T>
    where T : unmanaged
{
    static abstract T Invoke(T x, T y);

    static abstract Vector128<T> Invoke(Vector128<T> x, Vector128<T> y);

    static abstract Vector256<T> Invoke(Vector256<T> x, Vector256<T> y);

    static abstract Vector512<T> Invoke(Vector512<T> x, Vector512<T> y);
}
