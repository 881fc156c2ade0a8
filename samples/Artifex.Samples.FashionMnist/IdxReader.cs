using System.Buffers.Binary;
using System.IO.Compression;

namespace Artifex.Samples.FashionMnist;

/// <summary>
/// Reads gzip-compressed IDX files (LeCun's MNIST format). The header is read and checked first (magic, dimensions, item
/// count); decompression then stops at the byte count the header promises, so a file that inflates to more (a corrupt
/// file or a decompression bomb) is refused after one extra byte instead of being inflated whole.
/// </summary>
public static class IdxReader
{
    private const int ImageMagic = 0x00000803;
    private const int LabelMagic = 0x00000801;
    private const int ImageHeaderBytes = 16;
    private const int LabelHeaderBytes = 8;

    /// <summary>Reads an image file as pixel bytes, one row of <see cref="Dataset.Features"/> per image.</summary>
    /// <param name="path">The <c>*-images-idx3-ubyte.gz</c> file.</param>
    /// <returns>The images.</returns>
    /// <exception cref="InvalidDataException">The file is not gzip, has the wrong magic, dimensions or size, or is truncated; the message names the file.</exception>
    public static byte[] ReadImages(string path)
    {
        using FileStream file = File.OpenRead(path);
        return ReadImages(file, path);
    }

    /// <summary>Reads gzip-compressed IDX images from a stream, decompressing no more than the header promises (plus one byte).</summary>
    /// <param name="compressed">The gzip stream; it is left open.</param>
    /// <param name="name">The name the messages give the data (a path).</param>
    /// <returns>The images.</returns>
    /// <exception cref="InvalidDataException">The data is not gzip, has the wrong magic, dimensions or size, or is truncated; the message names it.</exception>
    public static byte[] ReadImages(Stream compressed, string name)
    {
        ArgumentNullException.ThrowIfNull(compressed);
        ArgumentNullException.ThrowIfNull(name);
        using var gzip = new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true);
        Span<byte> header = stackalloc byte[ImageHeaderBytes];
        int count = ReadHeader(gzip, header, name, ImageMagic);
        int rows = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
        int columns = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
        if (rows != 28 || columns != 28)
        {
            throw new InvalidDataException($"{name}: images are {rows}×{columns}; Fashion-MNIST images are 28×28.");
        }

        long payload = (long)count * Dataset.Features;
        if (payload > Array.MaxLength)
        {
            throw new InvalidDataException($"{name}: the header promises {count} images ({payload} bytes), more than this reader holds (at most {Array.MaxLength / Dataset.Features} images).");
        }

        return ReadPayload(gzip, name, ImageHeaderBytes, payload, $"{count} images");
    }

    /// <summary>Reads a label file.</summary>
    /// <param name="path">The <c>*-labels-idx1-ubyte.gz</c> file.</param>
    /// <returns>The labels, each in [0, 10).</returns>
    /// <exception cref="InvalidDataException">The file is not gzip, has the wrong magic or size, is truncated, or holds a label above 9.</exception>
    public static int[] ReadLabels(string path)
    {
        using FileStream file = File.OpenRead(path);
        return ReadLabels(file, path);
    }

    /// <summary>Reads gzip-compressed IDX labels from a stream, decompressing no more than the header promises (plus one byte).</summary>
    /// <param name="compressed">The gzip stream; it is left open.</param>
    /// <param name="name">The name the messages give the data (a path).</param>
    /// <returns>The labels, each in [0, 10).</returns>
    /// <exception cref="InvalidDataException">The data is not gzip, has the wrong magic or size, is truncated, or holds a label above 9.</exception>
    public static int[] ReadLabels(Stream compressed, string name)
    {
        ArgumentNullException.ThrowIfNull(compressed);
        ArgumentNullException.ThrowIfNull(name);
        using var gzip = new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true);
        Span<byte> header = stackalloc byte[LabelHeaderBytes];
        int count = ReadHeader(gzip, header, name, LabelMagic);
        byte[] bytes = ReadPayload(gzip, name, LabelHeaderBytes, count, $"{count} labels");
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = bytes[i];
            if (labels[i] >= Dataset.Classes)
            {
                throw new InvalidDataException($"{name}: label {i} is {labels[i]}; labels are 0–9.");
            }
        }

        return labels;
    }

    /// <summary>Fills <paramref name="header"/> from the stream and checks the magic and the item count.</summary>
    private static int ReadHeader(GZipStream gzip, Span<byte> header, string name, int magic)
    {
        int read = Fill(gzip, header, name);
        if (read < header.Length)
        {
            throw new InvalidDataException($"{name}: {read} bytes is shorter than the {header.Length}-byte IDX header.");
        }

        int found = BinaryPrimitives.ReadInt32BigEndian(header);
        if (found != magic)
        {
            throw new InvalidDataException($"{name}: IDX magic 0x{found:X8}, expected 0x{magic:X8}.");
        }

        int count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        if (count < 0)
        {
            throw new InvalidDataException($"{name}: negative item count {count}.");
        }

        return count;
    }

    /// <summary>
    /// Reads exactly <paramref name="expected"/> bytes after the header, then one more to prove the data ends there. The
    /// buffer grows with what actually arrives, so a header that lies about a huge count costs no more than the data.
    /// </summary>
    private static byte[] ReadPayload(GZipStream gzip, string name, int headerBytes, long expected, string promised)
    {
        using var memory = new MemoryStream((int)Math.Min(expected, 1 << 20));
        var chunk = new byte[81920];
        long remaining = expected;
        while (remaining > 0)
        {
            int wanted = (int)Math.Min(remaining, chunk.Length);
            int read = Fill(gzip, chunk.AsSpan(0, wanted), name);
            memory.Write(chunk, 0, read);
            remaining -= read;
            if (read < wanted)
            {
                throw new InvalidDataException(
                    $"{name}: the header promises {promised} ({headerBytes + expected} bytes), but the file holds {headerBytes + memory.Length} bytes (truncated or corrupt).");
            }
        }

        if (Fill(gzip, chunk.AsSpan(0, 1), name) != 0)
        {
            throw new InvalidDataException(
                $"{name}: decompresses to more than the {headerBytes + expected} bytes its header promises ({promised}); refused (corrupt, or a decompression bomb).");
        }

        return memory.Length == memory.Capacity ? memory.GetBuffer() : memory.ToArray();
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns the bytes read. Turns gzip errors into messages naming the data.</summary>
    private static int Fill(GZipStream gzip, Span<byte> buffer, string name)
    {
        try
        {
            return gzip.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{name}: not a valid gzip file ({e.Message}).", e);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{name}: the gzip stream is truncated.", e);
        }
    }
}
