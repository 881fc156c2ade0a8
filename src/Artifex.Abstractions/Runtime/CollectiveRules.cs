namespace Artifex.Runtime;

/// <summary>Rules every provider's collectives obey, written once for the contract and for provider-level entry points.</summary>
public static class CollectiveRules
{
    /// <summary>Gets whether <paramref name="elementType"/> is a floating-point type the collectives reduce (Single, Double, Half).</summary>
    /// <param name="elementType">The element type.</param>
    /// <returns>True for Single, Double and Half.</returns>
    public static bool IsFloatingPoint(Type elementType) =>
        elementType == typeof(float) || elementType == typeof(double) || elementType == typeof(Half);

    /// <summary>Throws when <paramref name="op"/> is a mean of non-floating-point values: as in JAX, the mean of integers is not an integer.</summary>
    /// <param name="elementType">The element type.</param>
    /// <param name="op">The reduction.</param>
    /// <param name="paramName">The parameter to name in the exception.</param>
    /// <exception cref="ArgumentException">A mean of integers.</exception>
    public static void ThrowIfMeanOfIntegers(Type elementType, ReduceOp op, string paramName)
    {
        ArgumentNullException.ThrowIfNull(elementType);
        if (op == ReduceOp.Mean && !IsFloatingPoint(elementType))
        {
            throw new ArgumentException(ErrorMessages.MeanOfIntegers(elementType), paramName);
        }
    }
}
