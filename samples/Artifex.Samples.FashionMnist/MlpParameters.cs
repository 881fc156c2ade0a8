namespace Artifex.Samples.FashionMnist;

/// <summary>The parameter tree of the MLP 784 → 512 (ReLU) → 10: <c>dense1/{bias,kernel}</c>, <c>dense2/{bias,kernel}</c>, kernels stored (in, out).</summary>
public static class MlpParameters
{
    /// <summary>The hidden width.</summary>
    public const int Hidden = 512;

    /// <summary>Gets the parameter count: 784·512 + 512 + 512·10 + 10 = 407,050.</summary>
    public static int Count => (Dataset.Features * Hidden) + Hidden + (Hidden * Dataset.Classes) + Dataset.Classes;

    /// <summary>PyTorch's default initialization of <c>nn.Linear</c>: every weight and bias uniform in ±1/√fan_in, from a seeded generator.</summary>
    /// <param name="seed">The seed.</param>
    /// <returns>A new host tree.</returns>
    public static Tree<HostArray> Initialize(ulong seed)
    {
        var random = new SplitMix64(seed);
        return Build(
            Uniform(random, Dataset.Features * Hidden, Dataset.Features),
            Uniform(random, Hidden, Dataset.Features),
            Uniform(random, Hidden * Dataset.Classes, Hidden),
            Uniform(random, Dataset.Classes, Hidden));
    }

    /// <summary>A tree of zeros with the parameters' structure (Adam's moments).</summary>
    /// <returns>A new host tree.</returns>
    public static Tree<HostArray> Zeros() =>
        Build(new float[Dataset.Features * Hidden], new float[Hidden], new float[Hidden * Dataset.Classes], new float[Dataset.Classes]);

    private static Tree<HostArray> Build(float[] kernel1, float[] bias1, float[] kernel2, float[] bias2) =>
        Tree.Dict<HostArray>(
            ("dense1", Tree.Dict<HostArray>(("bias", new HostArray<float>(bias1, Hidden)), ("kernel", new HostArray<float>(kernel1, Dataset.Features, Hidden)))),
            ("dense2", Tree.Dict<HostArray>(("bias", new HostArray<float>(bias2, Dataset.Classes)), ("kernel", new HostArray<float>(kernel2, Hidden, Dataset.Classes)))));

    private static float[] Uniform(SplitMix64 random, int count, int fanIn)
    {
        float bound = 1f / MathF.Sqrt(fanIn);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = ((2f * random.NextSingle()) - 1f) * bound;
        }

        return values;
    }
}
