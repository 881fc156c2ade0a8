namespace Artifex.Cpu.Tests.Reproducible;

/// <summary>
/// A plain scalar PR3 v2, written from the scheme's description and independent of the library's kernels: the oracle of
/// the reproducible-sum tests. A state is 3·n doubles, level-major (the n accumulators of level 0, then 1, then 2), each
/// biased by σ_j = 1.5·2^E_j with E = {46, 8, −30}: the same layout as <see cref="ReproducibleSumState.Buffer"/>.
/// </summary>
internal static class PR3Reference
{
    /// <summary>The bias of level 0, 1.5·2^46.</summary>
    public static readonly double Sigma0 = Math.ScaleB(1.5, 46);

    /// <summary>The bias of level 1, 1.5·2^8.</summary>
    public static readonly double Sigma1 = Math.ScaleB(1.5, 8);

    /// <summary>The bias of level 2, 1.5·2^−30.</summary>
    public static readonly double Sigma2 = Math.ScaleB(1.5, -30);

    /// <summary>Allocates an empty state of <paramref name="length"/> elements.</summary>
    /// <param name="length">The element count.</param>
    /// <returns>3·length doubles, every level at its bias.</returns>
    public static double[] Empty(int length)
    {
        var state = new double[3 * length];
        state.AsSpan(0, length).Fill(Sigma0);
        state.AsSpan(length, length).Fill(Sigma1);
        state.AsSpan(2 * length, length).Fill(Sigma2);
        return state;
    }

    /// <summary>Deposits one value per element (NaN propagates; the window is not checked here).</summary>
    /// <param name="state">The state.</param>
    /// <param name="values">state.Length / 3 values.</param>
    public static void Deposit(double[] state, ReadOnlySpan<float> values)
    {
        int n = state.Length / 3;
        if (values.Length != n)
        {
            throw new ArgumentException("Length mismatch.", nameof(values));
        }

        for (int i = 0; i < n; i++)
        {
            Deposit(values[i], ref state[i], ref state[n + i], ref state[(2 * n) + i]);
        }
    }

    /// <summary>One deposit: per level, sticky bit, add, exact remainder to the next level.</summary>
    /// <param name="value">The value, widened exactly to double.</param>
    /// <param name="a0">Level 0 (biased).</param>
    /// <param name="a1">Level 1 (biased).</param>
    /// <param name="a2">Level 2 (biased).</param>
    public static void Deposit(double value, ref double a0, ref double a1, ref double a2)
    {
        double r = value;
        DepositLevel(ref a0, ref r);
        DepositLevel(ref a1, ref r);
        a2 += Sticky(r);
    }

    /// <summary>Merges <paramref name="other"/> into <paramref name="state"/>: A = (A − σ) + B per level.</summary>
    /// <param name="state">The receiving state.</param>
    /// <param name="other">The other state.</param>
    public static void Merge(double[] state, double[] other)
    {
        int n = state.Length / 3;
        for (int i = 0; i < n; i++)
        {
            state[i] = (state[i] - Sigma0) + other[i];
            state[n + i] = (state[n + i] - Sigma1) + other[n + i];
            state[(2 * n) + i] = (state[(2 * n) + i] - Sigma2) + other[(2 * n) + i];
        }
    }

    /// <summary>Rounds each element once: ((a0 + a1) + a2) · scale in double, then to float; NaN is canonical.</summary>
    /// <param name="state">The state.</param>
    /// <param name="scale">The scale (1 for a sum).</param>
    /// <returns>The floats.</returns>
    public static float[] Finalize(double[] state, double scale = 1.0)
    {
        int n = state.Length / 3;
        var output = new float[n];
        for (int i = 0; i < n; i++)
        {
            output[i] = Finalize(state[i], state[n + i], state[(2 * n) + i], scale);
        }

        return output;
    }

    /// <summary>Rounds one element.</summary>
    /// <param name="a0">Level 0 (biased).</param>
    /// <param name="a1">Level 1 (biased).</param>
    /// <param name="a2">Level 2 (biased).</param>
    /// <param name="scale">The scale.</param>
    /// <returns>The float.</returns>
    public static float Finalize(double a0, double a1, double a2, double scale = 1.0)
    {
        double scaled = FinalizeToDouble(a0, a1, a2, scale);
        return double.IsNaN(scaled) ? float.NaN : (float)scaled;
    }

    /// <summary>The double before the one rounding to the output type: ((a0 − σ0) + (a1 − σ1)) + (a2 − σ2), times scale.</summary>
    /// <param name="a0">Level 0 (biased).</param>
    /// <param name="a1">Level 1 (biased).</param>
    /// <param name="a2">Level 2 (biased).</param>
    /// <param name="scale">The scale.</param>
    /// <returns>The double.</returns>
    public static double FinalizeToDouble(double a0, double a1, double a2, double scale = 1.0) =>
        (((a0 - Sigma0) + (a1 - Sigma1)) + (a2 - Sigma2)) * scale;

    /// <summary>The reproducible sum of Half contributions, rounded once to Half (NaN canonical).</summary>
    /// <param name="contributions">Equal-length arrays.</param>
    /// <returns>The Half values.</returns>
    public static Half[] SumHalf(IReadOnlyList<Half[]> contributions)
    {
        int n = contributions[0].Length;
        var output = new Half[n];
        for (int i = 0; i < n; i++)
        {
            double a0 = Sigma0, a1 = Sigma1, a2 = Sigma2;
            foreach (Half[] contribution in contributions)
            {
                Deposit((double)contribution[i], ref a0, ref a1, ref a2);
            }

            double v = FinalizeToDouble(a0, a1, a2);
            output[i] = double.IsNaN(v) ? Half.NaN : (Half)v;
        }

        return output;
    }

    /// <summary>The reproducible sum of the contributions, element by element.</summary>
    /// <param name="contributions">Equal-length arrays.</param>
    /// <param name="scale">The scale.</param>
    /// <returns>The floats.</returns>
    public static float[] Sum(IReadOnlyList<float[]> contributions, double scale = 1.0)
    {
        int n = contributions.Count == 0 ? 0 : contributions[0].Length;
        var output = new float[n];
        for (int i = 0; i < n; i++)
        {
            double a0 = Sigma0, a1 = Sigma1, a2 = Sigma2;
            foreach (float[] contribution in contributions)
            {
                Deposit(contribution[i], ref a0, ref a1, ref a2);
            }

            output[i] = Finalize(a0, a1, a2, scale);
        }

        return output;
    }

    /// <summary>Plain float summation in the given order (the default, rank-ordered kind).</summary>
    /// <param name="contributions">Equal-length arrays, summed first to last.</param>
    /// <returns>The floats.</returns>
    public static float[] PlainSum(IReadOnlyList<float[]> contributions)
    {
        float[] output = (float[])contributions[0].Clone();
        for (int k = 1; k < contributions.Count; k++)
        {
            float[] next = contributions[k];
            for (int i = 0; i < output.Length; i++)
            {
                output[i] += next[i];
            }
        }

        return output;
    }

    private static void DepositLevel(ref double accumulator, ref double residual)
    {
        // The sticky (OR-ed low) bit rules out exact ties, so the rounding of q to the level's unit depends on q alone.
        // The residual passed on is the exact remainder of the residual itself (v2), not of the sticky value.
        double t = accumulator + Sticky(residual);
        double m = accumulator - t;
        accumulator = t;
        residual += m;
    }

    private static double Sticky(double x) => BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(x) | 1L);
}
