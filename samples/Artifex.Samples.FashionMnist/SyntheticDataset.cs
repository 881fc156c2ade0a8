namespace Artifex.Samples.FashionMnist;

/// <summary>
/// A deterministic stand-in for Fashion-MNIST when the real files are absent: ten random 28×28 class prototypes, each
/// image its class's prototype at a random contrast plus uniform noise. Same sizes as the real data (60,000 / 10,000), so
/// throughput figures compare; the accuracy it reaches says nothing about Fashion-MNIST.
/// </summary>
public static class SyntheticDataset
{
    /// <summary>Generates the dataset.</summary>
    /// <param name="seed">The seed.</param>
    /// <param name="trainCount">Training images.</param>
    /// <param name="testCount">Test images.</param>
    /// <returns>The dataset.</returns>
    public static Dataset Create(ulong seed, int trainCount = 60_000, int testCount = 10_000)
    {
        var random = new SplitMix64(seed ^ 0x5EED_DA7AUL);
        var prototypes = new float[Dataset.Classes * Dataset.Features];
        for (int i = 0; i < prototypes.Length; i++)
        {
            prototypes[i] = random.NextSingle();
        }

        (byte[] trainImages, int[] trainLabels) = Draw(random, prototypes, trainCount);
        (byte[] testImages, int[] testLabels) = Draw(random, prototypes, testCount);
        return new Dataset(trainImages, trainLabels, testImages, testLabels, "synthetic (deterministic, seeded)");
    }

    private static (byte[] Images, int[] Labels) Draw(SplitMix64 random, float[] prototypes, int count)
    {
        var images = new byte[count * Dataset.Features];
        var labels = new int[count];
        for (int n = 0; n < count; n++)
        {
            int label = random.NextInt(Dataset.Classes);
            labels[n] = label;
            float contrast = 0.2f + (0.3f * random.NextSingle());
            ReadOnlySpan<float> prototype = prototypes.AsSpan(label * Dataset.Features, Dataset.Features);
            Span<byte> image = images.AsSpan(n * Dataset.Features, Dataset.Features);
            for (int i = 0; i < Dataset.Features; i++)
            {
                image[i] = (byte)(255f * ((contrast * prototype[i]) + ((1f - contrast) * random.NextSingle())));
            }
        }

        return (images, labels);
    }
}
