using System.Buffers.Binary;
using System.Globalization;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;

namespace Artifex.Cuda.Distributed;

/// <summary>
/// One authenticated connection of <see cref="TcpStore"/>: a handshake in which client and server each prove that they know
/// the job secret, then messages that each carry an HMAC-SHA256 under a key of this connection alone.
/// </summary>
/// <remarks>
/// <para>
/// The handshake, where K is the secret and T = Ns ‖ Nc ‖ limits:
/// the server sends <c>AXS1</c>, a fresh 32-byte nonce Ns and its key and value limits (4 bytes each), or instead
/// <c>AXS!</c> and a length-prefixed reason when it refuses the connection (it is full);
/// the client sends a fresh 32-byte nonce Nc and HMAC(K, "artifex-store/client" ‖ T);
/// the server answers 0 and HMAC(K, "artifex-store/server" ‖ T), or 1 when the client's proof is wrong, and then closes.
/// Both sides check the other's proof in constant time; a client that cannot check the server's proof never sends a request.
/// </para>
/// <para>
/// Then every message is a 4-byte length, the payload and HMAC(S, direction ‖ sequence ‖ length ‖ payload), where
/// S = HMAC(K, "artifex-store/session" ‖ T), the direction is one byte ('C' client to server, 'S' back) and the sequence
/// counts that direction's messages from 0. A message from another connection, a reflected one, a replayed one, one out of
/// order or an altered one fails the check, and the receiver ends the connection.
/// </para>
/// </remarks>
internal sealed class TcpStoreChannel : IDisposable
{
    public const int NonceBytes = 32;
    public const int MacBytes = 32;

    private const int GreetingBytes = 4 + NonceBytes + 8;
    private const byte ClientToServer = (byte)'C';
    private const byte ServerToClient = (byte)'S';
    private const byte Accepted = 0;
    private const byte Rejected = 1;

    private readonly Stream _stream;
    private readonly IncrementalHash _mac;
    private readonly byte _sendDirection;
    private readonly byte _receiveDirection;
    private ulong _sent;
    private ulong _received;

    private TcpStoreChannel(Stream stream, byte[] sessionKey, byte sendDirection)
    {
        _stream = stream;
        _mac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, sessionKey);
        CryptographicOperations.ZeroMemory(sessionKey);
        _sendDirection = sendDirection;
        _receiveDirection = sendDirection == ClientToServer ? ServerToClient : ClientToServer;
    }

    private static ReadOnlySpan<byte> Greeting => "AXS1"u8;

    private static ReadOnlySpan<byte> Refusal => "AXS!"u8;

    private static ReadOnlySpan<byte> ClientLabel => "artifex-store/client"u8;

    private static ReadOnlySpan<byte> ServerLabel => "artifex-store/server"u8;

    private static ReadOnlySpan<byte> SessionLabel => "artifex-store/session"u8;

    /// <summary>The client's half of the handshake, on a freshly connected stream.</summary>
    /// <param name="stream">The connection; its reads must time out.</param>
    /// <param name="secret">The job secret.</param>
    /// <param name="address">The server's <c>host:port</c>, for the messages.</param>
    /// <param name="maxKeyBytes">The server's longest key.</param>
    /// <param name="maxValueBytes">The server's longest value.</param>
    /// <returns>The channel.</returns>
    /// <exception cref="AuthenticationException">
    /// The peer is not a TcpStore server that knows <paramref name="secret"/>, or it rejected this client's proof.
    /// </exception>
    /// <exception cref="IOException">The server refused the connection (it holds its limit of connections).</exception>
    public static TcpStoreChannel Connect(Stream stream, byte[] secret, string address, out int maxKeyBytes, out int maxValueBytes)
    {
        byte[] greeting = new byte[GreetingBytes];
        ReadHandshake(stream, greeting.AsSpan(0, 4), address, "its greeting");
        if (greeting.AsSpan(0, 4).SequenceEqual(Refusal))
        {
            byte[] reason = ReadHandshake(stream, address, "its reason for refusing");
            throw new IOException($"The TcpStore server at {address} refused the connection: {Encoding.UTF8.GetString(reason)}");
        }

        if (!greeting.AsSpan(0, 4).SequenceEqual(Greeting))
        {
            throw NotTheServer(address, "it does not speak the TcpStore protocol", inner: null);
        }

        ReadHandshake(stream, greeting.AsSpan(4), address, "its greeting");
        maxKeyBytes = BinaryPrimitives.ReadInt32LittleEndian(greeting.AsSpan(4 + NonceBytes));
        maxValueBytes = BinaryPrimitives.ReadInt32LittleEndian(greeting.AsSpan(8 + NonceBytes));
        if (maxKeyBytes is < 1 or > TcpStoreOptions.KeyBytesCeiling || maxValueBytes is < 0 or > TcpStoreOptions.ValueBytesCeiling)
        {
            throw NotTheServer(address, string.Create(CultureInfo.InvariantCulture, $"it announced limits out of range (keys {maxKeyBytes} bytes, values {maxValueBytes})"), inner: null);
        }

        byte[] answer = new byte[NonceBytes + MacBytes];
        RandomNumberGenerator.Fill(answer.AsSpan(0, NonceBytes));
        byte[] transcript = Transcript(greeting.AsSpan(4, NonceBytes), answer.AsSpan(0, NonceBytes), greeting.AsSpan(4 + NonceBytes));
        Proof(secret, ClientLabel, transcript, answer.AsSpan(NonceBytes));
        stream.Write(answer);

        byte[] verdict = new byte[1 + MacBytes];
        ReadHandshake(stream, verdict.AsSpan(0, 1), address, "its verdict");
        if (verdict[0] != Accepted)
        {
            throw new AuthenticationException($"The TcpStore server at {address} rejected this client's proof of the job secret: {TcpStoreOptions.SecretVariable} differs between this rank and the server's.");
        }

        ReadHandshake(stream, verdict.AsSpan(1), address, "its proof");
        Span<byte> expected = stackalloc byte[MacBytes];
        Proof(secret, ServerLabel, transcript, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, verdict.AsSpan(1)))
        {
            throw NotTheServer(address, "it does not prove that it knows the job secret", inner: null);
        }

        return new TcpStoreChannel(stream, SessionKey(secret, transcript), ClientToServer);
    }

    /// <summary>The server's half of the handshake.</summary>
    /// <param name="stream">The accepted connection.</param>
    /// <param name="secret">The job secret.</param>
    /// <param name="maxKeyBytes">The server's longest key, announced to the client.</param>
    /// <param name="maxValueBytes">The server's longest value, announced to the client.</param>
    /// <param name="cancellation">Ends the handshake (its time limit, or the server closing).</param>
    /// <returns>The channel.</returns>
    /// <exception cref="AuthenticationException">The client did not prove that it knows the secret; it was told so.</exception>
    public static async Task<TcpStoreChannel> AcceptAsync(Stream stream, byte[] secret, int maxKeyBytes, int maxValueBytes, CancellationToken cancellation)
    {
        byte[] greeting = new byte[GreetingBytes];
        Greeting.CopyTo(greeting);
        RandomNumberGenerator.Fill(greeting.AsSpan(4, NonceBytes));
        BinaryPrimitives.WriteInt32LittleEndian(greeting.AsSpan(4 + NonceBytes), maxKeyBytes);
        BinaryPrimitives.WriteInt32LittleEndian(greeting.AsSpan(8 + NonceBytes), maxValueBytes);
        await stream.WriteAsync(greeting, cancellation).ConfigureAwait(false);

        byte[] answer = new byte[NonceBytes + MacBytes];
        await stream.ReadExactlyAsync(answer, cancellation).ConfigureAwait(false);
        byte[] transcript = Transcript(greeting.AsSpan(4, NonceBytes), answer.AsSpan(0, NonceBytes), greeting.AsSpan(4 + NonceBytes));
        byte[] verdict = new byte[1 + MacBytes];
        if (!CheckProof(secret, ClientLabel, transcript, answer.AsSpan(NonceBytes)))
        {
            verdict[0] = Rejected;
            await stream.WriteAsync(verdict.AsMemory(0, 1), cancellation).ConfigureAwait(false);
            throw new AuthenticationException("The client did not prove that it knows the job secret.");
        }

        verdict[0] = Accepted;
        Proof(secret, ServerLabel, transcript, verdict.AsSpan(1));
        await stream.WriteAsync(verdict, cancellation).ConfigureAwait(false);
        return new TcpStoreChannel(stream, SessionKey(secret, transcript), ServerToClient);
    }

    /// <summary>What a full server sends instead of its greeting before closing the connection.</summary>
    public static byte[] RefusalMessage(string reason)
    {
        byte[] text = Encoding.UTF8.GetBytes(reason);
        int length = Math.Min(text.Length, TcpStoreProtocol.MaxMessageBytes);
        byte[] message = new byte[8 + length];
        Refusal.CopyTo(message);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(4), length);
        text.AsSpan(0, length).CopyTo(message.AsSpan(8));
        return message;
    }

    /// <summary>Sends one message.</summary>
    public void Send(ReadOnlySpan<byte> payload) => _stream.Write(Seal(payload));

    /// <summary>Sends one message.</summary>
    public ValueTask SendAsync(ReadOnlySpan<byte> payload, CancellationToken cancellation) => _stream.WriteAsync(Seal(payload), cancellation);

    /// <summary>Receives one message of at most <paramref name="maxPayload"/> bytes.</summary>
    /// <returns>The payload, or <see langword="null"/> when the peer closed the connection between messages.</returns>
    /// <exception cref="InvalidDataException">The message is too long or fails authentication.</exception>
    /// <exception cref="EndOfStreamException">The peer closed the connection inside a message.</exception>
    public byte[]? Receive(int maxPayload)
    {
        byte[] header = new byte[4];
        int read = _stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (read == 0)
        {
            return null;
        }

        if (read < header.Length)
        {
            throw new EndOfStreamException("The peer closed the connection inside a message.");
        }

        byte[] body = new byte[PayloadLength(header, maxPayload) + MacBytes];
        _stream.ReadExactly(body);
        return Open(body);
    }

    /// <summary>Receives one message of at most <paramref name="maxPayload"/> bytes.</summary>
    /// <returns>The payload, or <see langword="null"/> when the peer closed the connection between messages.</returns>
    /// <exception cref="InvalidDataException">The message is too long or fails authentication.</exception>
    /// <exception cref="EndOfStreamException">The peer closed the connection inside a message.</exception>
    public async Task<byte[]?> ReceiveAsync(int maxPayload, CancellationToken cancellation)
    {
        byte[] header = new byte[4];
        int read = await _stream.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, cancellation).ConfigureAwait(false);
        if (read == 0)
        {
            return null;
        }

        if (read < header.Length)
        {
            throw new EndOfStreamException("The peer closed the connection inside a message.");
        }

        byte[] body = new byte[PayloadLength(header, maxPayload) + MacBytes];
        await _stream.ReadExactlyAsync(body, cancellation).ConfigureAwait(false);
        return Open(body);
    }

    /// <summary>Releases the message key; the stream belongs to the caller.</summary>
    public void Dispose() => _mac.Dispose();

    private static int PayloadLength(byte[] header, int maxPayload)
    {
        int length = BinaryPrimitives.ReadInt32LittleEndian(header);
        return length < 0 || length > maxPayload
            ? throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"A message of {length} bytes (the limit is {maxPayload})."))
            : length;
    }

    private static void ReadHandshake(Stream stream, Span<byte> buffer, string address, string what)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (IOException e)
        {
            throw NotTheServer(address, $"it did not send {what} ({e.Message})", e);
        }
    }

    private static byte[] ReadHandshake(Stream stream, string address, string what)
    {
        byte[] length = new byte[4];
        ReadHandshake(stream, length, address, what);
        int count = BinaryPrimitives.ReadInt32LittleEndian(length);
        if (count < 0 || count > TcpStoreProtocol.MaxMessageBytes)
        {
            throw NotTheServer(address, string.Create(CultureInfo.InvariantCulture, $"it sent {what} of {count} bytes"), inner: null);
        }

        byte[] bytes = new byte[count];
        ReadHandshake(stream, bytes, address, what);
        return bytes;
    }

    private static AuthenticationException NotTheServer(string address, string why, Exception? inner) =>
        new($"The peer at {address} is not the job's TcpStore server: {why}. Either {TcpStoreOptions.SecretVariable} differs between this rank and rank 0, or another program holds the port.", inner);

    private static byte[] Transcript(ReadOnlySpan<byte> serverNonce, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> limits) =>
        [.. serverNonce, .. clientNonce, .. limits];

    private static void Proof(byte[] secret, ReadOnlySpan<byte> label, byte[] transcript, Span<byte> destination) =>
        HMACSHA256.HashData(secret, [.. label, .. transcript], destination);

    private static bool CheckProof(byte[] secret, ReadOnlySpan<byte> label, byte[] transcript, ReadOnlySpan<byte> proof)
    {
        Span<byte> expected = stackalloc byte[MacBytes];
        Proof(secret, label, transcript, expected);
        return CryptographicOperations.FixedTimeEquals(expected, proof);
    }

    private static byte[] SessionKey(byte[] secret, byte[] transcript)
    {
        byte[] key = new byte[MacBytes];
        Proof(secret, SessionLabel, transcript, key);
        return key;
    }

    private byte[] Seal(ReadOnlySpan<byte> payload)
    {
        byte[] message = new byte[4 + payload.Length + MacBytes];
        BinaryPrimitives.WriteInt32LittleEndian(message, payload.Length);
        payload.CopyTo(message.AsSpan(4));
        Mac(_sendDirection, _sent++, payload, message.AsSpan(4 + payload.Length));
        return message;
    }

    private byte[] Open(byte[] body)
    {
        ReadOnlySpan<byte> payload = body.AsSpan(0, body.Length - MacBytes);
        Span<byte> expected = stackalloc byte[MacBytes];
        Mac(_receiveDirection, _received, payload, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, body.AsSpan(payload.Length)))
        {
            throw new InvalidDataException("A message fails authentication: it was forged, altered, replayed or sent out of order.");
        }

        _received++;
        return payload.ToArray();
    }

    private void Mac(byte direction, ulong sequence, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        Span<byte> header = stackalloc byte[1 + 8 + 4];
        header[0] = direction;
        BinaryPrimitives.WriteUInt64LittleEndian(header[1..], sequence);
        BinaryPrimitives.WriteInt32LittleEndian(header[9..], payload.Length);
        _mac.AppendData(header);
        _mac.AppendData(payload);
        _mac.GetHashAndReset(destination);
    }
}
