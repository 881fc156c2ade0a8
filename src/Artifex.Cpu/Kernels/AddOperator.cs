using System.Numerics;
using System.Runtime.Intrinsics;

namespace Artifex.Cpu.Kernels;

/// <summary><c>x + y</c>.</summary>
/// <typeparam name="T">The element type.</typeparam>
internal readonly struct AddOperator<T> : IReduceOperator<T>
    where T : unmanaged, INumber<T>
{
    public static T Invoke(T x, T y) => x + y;

    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x + y;

    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x + y;

    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x + y;
}
