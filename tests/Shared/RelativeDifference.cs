using System.Globalization;

namespace Artifex.Testing;

/// <summary>The bar of the equivalence tests: two runs' parameters agree when their difference is small against their size.</summary>
internal static class RelativeDifference
{
    /// <summary>Asserts ‖actual − expected‖₂ ≤ <paramref name="bar"/> · ‖expected‖₂, naming <paramref name="what"/> and the ratio found.</summary>
    public static void AssertWithin(float[] expected, float[] actual, double bar, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double difference = Math.Sqrt(expected.Zip(actual).Sum(static p => Math.Pow((double)p.First - p.Second, 2)));
        double norm = Math.Sqrt(expected.Sum(static v => (double)v * v));
        Assert.True(difference <= bar * norm, string.Create(CultureInfo.InvariantCulture, $"{what}: relative 2-norm difference {difference / norm:E2} (bar {bar:E0})"));
    }
}
