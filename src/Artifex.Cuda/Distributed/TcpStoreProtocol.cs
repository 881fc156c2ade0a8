using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Text;

namespace Artifex.Cuda.Distributed;

/// <summary>
/// The messages of <see cref="TcpStore"/>, which <see cref="TcpStoreChannel"/> carries authenticated after its handshake. A
/// request is a 1-byte opcode, a 4-byte little-endian key length, the UTF-8 key, then the opcode's operand: <see cref="Set"/>
/// a 4-byte length and the value; <see cref="Get"/> and <see cref="Wait"/> an 8-byte wait in milliseconds (-1 forever, 0 not
/// at all); <see cref="Add"/> an 8-byte delta. A reply is a status byte, then: after <see cref="Ok"/> the value
/// (length-prefixed) for <see cref="Get"/>, the new total (8 bytes) for <see cref="Add"/>, nothing otherwise; nothing after
/// <see cref="NotFound"/>; a length-prefixed UTF-8 message after <see cref="Error"/>. A message holds exactly one request or
/// reply: a byte left over is a protocol violation.
/// </summary>
internal static class TcpStoreProtocol
{
    public const byte Set = 1;
    public const byte Get = 2;
    public const byte Add = 3;
    public const byte Wait = 4;

    public const byte Ok = 0;
    public const byte NotFound = 1;
    public const byte Error = 2;

    /// <summary>The longest error message a server sends.</summary>
    public const int MaxMessageBytes = 4096;

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Reads <paramref name="host"/> as an IP address, or as 127.0.0.1 when it is a loopback name (<c>localhost</c>, with or
    /// without the root's trailing dot, in any case), so that the server listens, and the clients connect, on loopback only.
    /// </summary>
    /// <returns>Whether <paramref name="host"/> is an IP address or a loopback name; <see langword="false"/> for other names.</returns>
    public static bool TryParseLoopbackOrAddress(string host, [NotNullWhen(true)] out IPAddress? address)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || string.Equals(host, "localhost.", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
            return true;
        }

        return IPAddress.TryParse(host, out address);
    }

    /// <summary>Encodes a request: opcode, key, then <paramref name="operand"/> as is.</summary>
    public static byte[] Request(byte opcode, byte[] key, ReadOnlySpan<byte> operand)
    {
        byte[] request = new byte[1 + 4 + key.Length + operand.Length];
        request[0] = opcode;
        BinaryPrimitives.WriteInt32LittleEndian(request.AsSpan(1), key.Length);
        key.CopyTo(request, 5);
        operand.CopyTo(request.AsSpan(5 + key.Length));
        return request;
    }

    /// <summary>Encodes a request whose operand is one 8-byte integer.</summary>
    public static byte[] Request(byte opcode, byte[] key, long operand)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, operand);
        return Request(opcode, key, bytes);
    }

    /// <summary>Encodes a request whose operand is a length-prefixed value.</summary>
    public static byte[] RequestWithValue(byte opcode, byte[] key, ReadOnlySpan<byte> value)
    {
        byte[] request = Request(opcode, key, new byte[4 + value.Length]);
        int at = 5 + key.Length;
        BinaryPrimitives.WriteInt32LittleEndian(request.AsSpan(at), value.Length);
        value.CopyTo(request.AsSpan(at + 4));
        return request;
    }

    /// <summary>Encodes a reply: a status, then an optional length-prefixed payload.</summary>
    public static byte[] Reply(byte status, ReadOnlySpan<byte> payload, bool lengthPrefixed)
    {
        int prefix = lengthPrefixed ? 4 : 0;
        byte[] reply = new byte[1 + prefix + payload.Length];
        reply[0] = status;
        if (lengthPrefixed)
        {
            BinaryPrimitives.WriteInt32LittleEndian(reply.AsSpan(1), payload.Length);
        }

        payload.CopyTo(reply.AsSpan(1 + prefix));
        return reply;
    }

    /// <summary>Encodes an <see cref="Error"/> reply.</summary>
    public static byte[] ErrorReply(string message)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(message);
        return Reply(Error, bytes.AsSpan(0, Math.Min(bytes.Length, MaxMessageBytes)), lengthPrefixed: true);
    }

    /// <summary>The longest request a server with these limits accepts: a <see cref="Set"/> of the longest key and value.</summary>
    public static int MaxRequestBytes(int maxKeyBytes, int maxValueBytes) => 1 + 4 + maxKeyBytes + Math.Max(8, 4 + maxValueBytes);

    /// <summary>The longest reply a server with this value limit sends: a value, or an error message.</summary>
    public static int MaxReplyBytes(int maxValueBytes) => 1 + 4 + Math.Max(maxValueBytes, MaxMessageBytes);

    /// <summary>Encodes a key for the caller, rejecting what the server would reject.</summary>
    /// <exception cref="ArgumentException">The key is empty or longer than <paramref name="maxKeyBytes"/> in UTF-8.</exception>
    public static byte[] EncodeKey(string key, int maxKeyBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        int length = Encoding.UTF8.GetByteCount(key);
        if (length > maxKeyBytes)
        {
            throw new ArgumentException($"The key takes {length} bytes in UTF-8; the store accepts at most {maxKeyBytes}.", nameof(key));
        }

        return Encoding.UTF8.GetBytes(key);
    }

    /// <summary>Reads a key; <see cref="InvalidDataException"/> when it is empty, too long or not UTF-8.</summary>
    public static string ReadKey(Stream stream, int maxKeyBytes)
    {
        int length = ReadLength(stream, maxKeyBytes, "key");
        if (length == 0)
        {
            throw new InvalidDataException("Empty key.");
        }

        byte[] bytes = new byte[length];
        stream.ReadExactly(bytes);
        try
        {
            return s_strictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException("The key is not UTF-8.", e);
        }
    }

    /// <summary>Reads a length-prefixed byte string of at most <paramref name="max"/> bytes.</summary>
    public static byte[] ReadBytes(Stream stream, int max, string what)
    {
        byte[] bytes = new byte[ReadLength(stream, max, what)];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>Reads a 4-byte length; <see cref="InvalidDataException"/> when it is negative or above <paramref name="max"/>.</summary>
    public static int ReadLength(Stream stream, int max, string what)
    {
        Span<byte> bytes = stackalloc byte[4];
        stream.ReadExactly(bytes);
        int length = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        if (length < 0 || length > max)
        {
            throw new InvalidDataException($"A {what} of {length} bytes (the limit is {max}).");
        }

        return length;
    }

    /// <summary>Reads an 8-byte little-endian integer.</summary>
    public static long ReadInt64(Stream stream)
    {
        Span<byte> bytes = stackalloc byte[8];
        stream.ReadExactly(bytes);
        return BinaryPrimitives.ReadInt64LittleEndian(bytes);
    }

    /// <summary>Requires that a message was read to its end; <see cref="InvalidDataException"/> otherwise.</summary>
    public static void RequireEnd(MemoryStream message)
    {
        if (message.Position != message.Length)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{message.Length - message.Position} bytes after the end of the message."));
        }
    }

    /// <summary>Reads one byte; <see cref="EndOfStreamException"/> when the peer closed the connection.</summary>
    public static byte ReadByte(Stream stream)
    {
        int value = stream.ReadByte();
        return value < 0 ? throw new EndOfStreamException("The peer closed the connection.") : (byte)value;
    }
}
