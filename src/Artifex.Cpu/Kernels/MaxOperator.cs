using System.Numerics;
using System.Runtime.Intrinsics;

namespace Artifex.Cpu.Kernels;

/// <summary><c>max(x, y)</c> with IEEE 754:2019 semantics (NaN propagates, +0 above −0) in every width.</summary>
/// <typeparam name="T">The element type.</typeparam>
internal readonly struct MaxOperator<T> : IReduceOperator<T>
    where T : unmanaged, INumber<T>
{
    public static T Invoke(T x, T y) => T.Max(x, y);

    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => Vector128.Max(x, y);

    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => Vector256.Max(x, y);

    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => Vector512.Max(x, y);
}
