using System.Buffers.Binary;
using System.IO.Compression;

namespace Artifex.Samples.FashionMnist;

/// <summary>Reads gzip-compressed IDX files (LeCun's MNIST format) and checks every header field against the data.</summary>
public static class IdxReader
{
    private const int ImageMagic = 0x00000803;
    private const int LabelMagic = 0x00000801;

    /// <summary>Reads an image file as pixel bytes, one row of <see cref="Dataset.Features"/> per image.</summary>
    /// <param name="path">The <c>*-images-idx3-ubyte.gz</c> file.</param>
    /// <returns>The images.</returns>
    /// <exception cref="InvalidDataException">The file is not gzip, has the wrong magic or size, or is truncated; the message names the file.</exception>
    public static byte[] ReadImages(string path)
    {
        byte[] bytes = Decompress(path);
        int count = Header(bytes, path, ImageMagic, headerBytes: 16);
        int rows = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(8));
        int columns = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(12));
        if (rows != 28 || columns != 28)
        {
            throw new InvalidDataException($"{path}: images are {rows}×{columns}; Fashion-MNIST images are 28×28.");
        }

        long expected = 16L + ((long)count * Dataset.Features);
        if (bytes.LongLength != expected)
        {
            throw new InvalidDataException($"{path}: the header promises {count} images ({expected} bytes), but the file holds {bytes.LongLength} bytes (truncated or corrupt).");
        }

        return bytes[16..];
    }

    /// <summary>Reads a label file.</summary>
    /// <param name="path">The <c>*-labels-idx1-ubyte.gz</c> file.</param>
    /// <returns>The labels, each in [0, 10).</returns>
    /// <exception cref="InvalidDataException">The file is not gzip, has the wrong magic or size, is truncated, or holds a label above 9.</exception>
    public static int[] ReadLabels(string path)
    {
        byte[] bytes = Decompress(path);
        int count = Header(bytes, path, LabelMagic, headerBytes: 8);
        if (bytes.LongLength != 8L + count)
        {
            throw new InvalidDataException($"{path}: the header promises {count} labels, but the file holds {bytes.LongLength - 8} (truncated or corrupt).");
        }

        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = bytes[8 + i];
            if (labels[i] >= Dataset.Classes)
            {
                throw new InvalidDataException($"{path}: label {i} is {labels[i]}; labels are 0–9.");
            }
        }

        return labels;
    }

    private static int Header(byte[] bytes, string path, int magic, int headerBytes)
    {
        if (bytes.Length < headerBytes)
        {
            throw new InvalidDataException($"{path}: {bytes.Length} bytes is shorter than the {headerBytes}-byte IDX header.");
        }

        int found = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (found != magic)
        {
            throw new InvalidDataException($"{path}: IDX magic 0x{found:X8}, expected 0x{magic:X8}.");
        }

        int count = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
        if (count < 0)
        {
            throw new InvalidDataException($"{path}: negative item count {count}.");
        }

        return count;
    }

    private static byte[] Decompress(string path)
    {
        try
        {
            using FileStream file = File.OpenRead(path);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var memory = new MemoryStream();
            gzip.CopyTo(memory);
            return memory.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: not a valid gzip file ({e.Message}).", e);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path}: the gzip stream is truncated.", e);
        }
    }
}
