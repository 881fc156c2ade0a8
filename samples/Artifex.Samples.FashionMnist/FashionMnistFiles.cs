namespace Artifex.Samples.FashionMnist;

/// <summary>Finds and loads the four Fashion-MNIST IDX files.</summary>
public static class FashionMnistFiles
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the files.</summary>
    public const string DebianDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The four file names, as the package and the original distribution name them.</summary>
    public static readonly IReadOnlyList<string> FileNames =
    [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ];

    /// <summary>Returns true when all four files exist in <paramref name="directory"/>.</summary>
    /// <param name="directory">The folder.</param>
    /// <returns>Whether the dataset is there.</returns>
    public static bool Exist(string directory) => FileNames.All(name => File.Exists(Path.Combine(directory, name)));

    /// <summary>Loads the dataset from a folder and checks that images and labels agree.</summary>
    /// <param name="directory">The folder with the four files.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="FileNotFoundException">A file is missing; the message names it.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt or truncated, or image and label counts differ; the message names the file.</exception>
    public static Dataset Load(string directory)
    {
        string[] paths = [.. FileNames.Select(name => Path.Combine(directory, name))];
        foreach (string path in paths)
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{path}: missing (the folder must hold {string.Join(", ", FileNames)}).", path);
            }
        }

        byte[] trainImages = IdxReader.ReadImages(paths[0]);
        int[] trainLabels = IdxReader.ReadLabels(paths[1]);
        byte[] testImages = IdxReader.ReadImages(paths[2]);
        int[] testLabels = IdxReader.ReadLabels(paths[3]);
        CheckCounts(paths[1], trainImages.Length / Dataset.Features, trainLabels.Length);
        CheckCounts(paths[3], testImages.Length / Dataset.Features, testLabels.Length);
        return new Dataset(trainImages, trainLabels, testImages, testLabels, $"Fashion-MNIST ({directory})");
    }

    private static void CheckCounts(string labelPath, int images, int labels)
    {
        if (images != labels)
        {
            throw new InvalidDataException($"{labelPath}: {labels} labels for {images} images.");
        }
    }
}
