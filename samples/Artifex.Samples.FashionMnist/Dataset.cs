namespace Artifex.Samples.FashionMnist;

/// <summary>Images as rows of 784 bytes (pixel intensities 0–255, scaled to [0, 1] when a batch is built) and labels 0–9.</summary>
/// <param name="TrainImages">The training images, row-major (count × 784). Bytes, so a random batch reads a quarter of the memory floats would.</param>
/// <param name="TrainLabels">The training labels.</param>
/// <param name="TestImages">The test images, row-major.</param>
/// <param name="TestLabels">The test labels.</param>
/// <param name="Source">Where the data came from, for the report.</param>
public sealed record Dataset(byte[] TrainImages, int[] TrainLabels, byte[] TestImages, int[] TestLabels, string Source)
{
    /// <summary>The pixels of one image.</summary>
    public const int Features = 28 * 28;

    /// <summary>The number of classes.</summary>
    public const int Classes = 10;

    /// <summary>Gets the number of training images.</summary>
    public int TrainCount => TrainLabels.Length;

    /// <summary>Gets the number of test images.</summary>
    public int TestCount => TestLabels.Length;

    /// <summary>Keeps the first <paramref name="train"/> training and <paramref name="test"/> test images (for quick runs and tests).</summary>
    /// <param name="train">The training images to keep.</param>
    /// <param name="test">The test images to keep.</param>
    /// <returns>The smaller dataset.</returns>
    public Dataset Take(int train, int test)
    {
        train = Math.Min(train, TrainCount);
        test = Math.Min(test, TestCount);
        return new Dataset(TrainImages[..(train * Features)], TrainLabels[..train], TestImages[..(test * Features)], TestLabels[..test], Source);
    }
}
