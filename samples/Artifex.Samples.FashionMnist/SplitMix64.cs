namespace Artifex.Samples.FashionMnist;

/// <summary>
/// A tiny seeded generator (Steele, Lea and Flood's SplitMix64). Written out here rather than <see cref="Random"/>, so the
/// initial parameters, the synthetic data and the shuffles are the same bits on every .NET version.
/// </summary>
public sealed class SplitMix64
{
    private ulong _state;

    /// <summary>Initializes the generator.</summary>
    /// <param name="seed">The seed.</param>
    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>Returns the next 64 random bits.</summary>
    /// <returns>The bits.</returns>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Returns a float uniform in [0, 1) with 24 random bits.</summary>
    /// <returns>The value.</returns>
    public float NextSingle() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Returns an integer uniform in [0, <paramref name="bound"/>) (Lemire's multiply-shift, bias below 2⁻³²).</summary>
    /// <param name="bound">The exclusive upper bound; positive.</param>
    /// <returns>The value.</returns>
    public int NextInt(int bound) => (int)(((NextUInt64() >> 32) * (ulong)bound) >> 32);

    /// <summary>Shuffles <paramref name="values"/> in place (Fisher–Yates).</summary>
    /// <param name="values">The values.</param>
    public void Shuffle(Span<int> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}
