using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace Artifex.Cuda.Distributed;

/// <summary>
/// A small key/value store over TCP, in the manner of PyTorch's c10d <c>TCPStore</c>: rank 0 serves it at
/// <c>MASTER_ADDR:MASTER_PORT</c> and publishes NCCL's unique id under a key; the other ranks block on that key until it
/// appears. Every participant must know the job secret (<see cref="TcpStoreOptions.SecretVariable"/>).
/// </summary>
/// <remarks>
/// <para>
/// Every instance is a client with one connection; the server's instance also runs the server. Calls are serialized on the
/// connection, so an instance can be shared between threads, but a blocked <see cref="Get(string)"/> holds up the other
/// calls of the same instance. Keys are at most 1 KiB in UTF-8 and values at most 1 MiB unless the server's
/// <see cref="TcpStoreOptions"/> say otherwise; the server also bounds its connections, the idle time of each, its key count
/// and the bytes it holds, and refuses what goes beyond with an error that names the limit.
/// </para>
/// <para>
/// A key belongs to the connection that first set it with <see cref="Set(string, ReadOnlySpan{byte})"/>: that connection
/// may replace it, nobody else may, so the NCCL id rank 0 publishes cannot be swapped under the ranks reading it. A key
/// written by <see cref="Add(string, long)"/> is a counter that every connection may add to, and that Set cannot overwrite.
/// </para>
/// <para>
/// Trust model. The client and the server authenticate each other with the job secret (a challenge-response over fresh
/// nonces, HMAC-SHA256), and every message after that carries an HMAC-SHA256 under a key of its connection alone with a
/// sequence number, so that a peer without the secret can neither read nor write a key, nor forge, alter, replay or
/// reorder a message (an acknowledgement included), and a program squatting on the port, or a server started with another
/// secret, is refused by the clients with an <see cref="AuthenticationException"/> naming the address. A violation of the
/// protocol ends the connection, logged on the server and thrown on the client. What the store does not do: it does not
/// encrypt, so anyone who can watch the network sees the keys and values (NCCL's id included); everyone who holds the
/// secret is trusted alike (a rank cannot be told from another holder of the secret); and it does not withstand a flood of
/// connections from a host that can reach the port, which can fill the connection limit and stall the job (the limits
/// keep the server's memory and threads bounded, not the job running). Like PyTorch's TCPStore, which its documentation
/// calls not secure and meant for a trusted network, it belongs on the job's private network; the secret keeps other
/// users of a shared host or network out, it does not make an open network safe.
/// </para>
/// <para>
/// Disposing the server's instance closes every connection: calls blocked on other instances fail promptly with an
/// <see cref="IOException"/>. Disposing an instance makes its own blocked calls throw <see cref="ObjectDisposedException"/>.
/// </para>
/// </remarks>
public sealed class TcpStore : IDisposable
{
    // Lets the server's answer to a timed-out wait arrive before the socket gives up on it.
    private static readonly TimeSpan s_replyGrace = TimeSpan.FromSeconds(30);

    // A server answers the handshake at once; a peer that says nothing for this long is not one. The floor keeps a short
    // store timeout from failing the handshake of a loaded machine.
    private static readonly TimeSpan s_handshakeFloor = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_handshakeCeiling = TimeSpan.FromSeconds(60);

    private readonly Lock _callLock = new();
    private readonly NetworkStream _stream;
    private readonly TcpStoreChannel _channel;
    private readonly TcpStoreServer? _server;
    private readonly string _address;
    private readonly int _maxKeyBytes;
    private readonly int _maxValueBytes;
    private volatile bool _disposed;
    private bool _broken;

    private TcpStore(NetworkStream stream, TcpStoreChannel channel, int maxKeyBytes, int maxValueBytes, TcpStoreServer? server, string address, int port, TimeSpan timeout)
    {
        _stream = stream;
        _channel = channel;
        _maxKeyBytes = maxKeyBytes;
        _maxValueBytes = maxValueBytes;
        _server = server;
        _address = address;
        Port = port;
        Timeout = timeout;
    }

    /// <summary>Gets the server's port; for a server started on port 0, the ephemeral port it was given.</summary>
    public int Port { get; }

    /// <summary>Gets how long connecting and each blocking read wait.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Gets where the server listens, on the server's instance; <see langword="null"/> on a client.</summary>
    internal IPEndPoint? ListenEndPoint => _server?.ListenEndPoint;

    /// <summary>
    /// Starts the server (and connects to it), or connects to a server, with the default limits and the job secret read from
    /// <see cref="TcpStoreOptions.SecretVariable"/> (<c>ARTIFEX_STORE_SECRET</c>).
    /// </summary>
    /// <param name="host">
    /// The server's address. The server listens only there when it is an IP address, only on 127.0.0.1 when it is
    /// <c>localhost</c> (clients then connect to 127.0.0.1 too), and on all interfaces when it is another host name (which
    /// other hosts may resolve differently from this one).
    /// </param>
    /// <param name="port">The server's port; 0 lets a server pick an ephemeral one (see <see cref="Port"/>).</param>
    /// <param name="isServer">Whether this process serves the store (rank 0).</param>
    /// <param name="timeout">
    /// How long a client keeps retrying to connect (the server may start later) and how long <see cref="Get(string)"/> and
    /// <see cref="Wait(IReadOnlyList{string})"/> wait; <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> waits forever.
    /// </param>
    /// <returns>The store; the caller disposes it.</returns>
    /// <exception cref="ArgumentException"><paramref name="host"/> is empty, or the secret is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> or <paramref name="timeout"/> is out of range.</exception>
    /// <exception cref="InvalidOperationException"><c>ARTIFEX_STORE_SECRET</c> is not set.</exception>
    /// <exception cref="SocketException">The server cannot listen on <paramref name="host"/>:<paramref name="port"/>; the message names them.</exception>
    /// <exception cref="TimeoutException">No server answered at <paramref name="host"/>:<paramref name="port"/> in time.</exception>
    /// <exception cref="AuthenticationException">
    /// The peer at <paramref name="host"/>:<paramref name="port"/> cannot prove that it knows the secret (another program
    /// holds the port, or rank 0 has another secret), or it rejected this client's proof.
    /// </exception>
    /// <exception cref="IOException">The server refused the connection: it holds its limit of connections.</exception>
    public static TcpStore Start(string host, int port, bool isServer, TimeSpan timeout) =>
        Start(host, port, isServer, timeout, TcpStoreOptions.FromEnvironment());

    /// <summary>Starts the server (and connects to it), or connects to a server, with the given secret and limits.</summary>
    /// <param name="host">The server's address, as for <see cref="Start(string, int, bool, TimeSpan)"/>.</param>
    /// <param name="port">The server's port; 0 lets a server pick an ephemeral one (see <see cref="Port"/>).</param>
    /// <param name="isServer">Whether this process serves the store (rank 0).</param>
    /// <param name="timeout">How long to connect and to wait for keys, as for <see cref="Start(string, int, bool, TimeSpan)"/>.</param>
    /// <param name="options">
    /// The job secret, and the server's limits (a client takes the key and value limits from the server it connects to).
    /// </param>
    /// <returns>The store; the caller disposes it.</returns>
    /// <exception cref="ArgumentException"><paramref name="host"/> is empty, a limit is out of range, or the secret is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> or <paramref name="timeout"/> is out of range.</exception>
    /// <exception cref="InvalidOperationException"><see cref="TcpStoreOptions.Secret"/> is <see langword="null"/>.</exception>
    /// <exception cref="SocketException">The server cannot listen on <paramref name="host"/>:<paramref name="port"/>; the message names them.</exception>
    /// <exception cref="TimeoutException">No server answered at <paramref name="host"/>:<paramref name="port"/> in time.</exception>
    /// <exception cref="AuthenticationException">
    /// The peer at <paramref name="host"/>:<paramref name="port"/> cannot prove that it knows the secret, or it rejected
    /// this client's proof.
    /// </exception>
    /// <exception cref="IOException">The server refused the connection: it holds its limit of connections.</exception>
    public static TcpStore Start(string host, int port, bool isServer, TimeSpan timeout, TcpStoreOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, isServer ? 0 : 1);
        ArgumentNullException.ThrowIfNull(options);
        if (timeout <= TimeSpan.Zero && timeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be positive or Timeout.InfiniteTimeSpan.");
        }

        byte[] secret = TcpStoreOptions.Validate(options, FormatAddress(host, port));
        if (!isServer)
        {
            EndPoint endPoint = TcpStoreProtocol.TryParseLoopbackOrAddress(host, out IPAddress? ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
            return Open(endPoint, secret, server: null, FormatAddress(host, port), port, timeout);
        }

        TcpStoreServer server = TcpStoreServer.Start(host, port, options, secret);
        try
        {
            return Open(server.ConnectEndPoint, secret, server, FormatAddress(host, server.Port), server.Port, timeout);
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>, waking everyone waiting for it.</summary>
    /// <param name="key">The key: not empty, at most the server's <see cref="TcpStoreOptions.MaxKeyBytes"/> in UTF-8.</param>
    /// <param name="value">The value: at most the server's <see cref="TcpStoreOptions.MaxValueBytes"/>.</param>
    /// <exception cref="ArgumentException">The key or the value is too long, or the key is empty.</exception>
    /// <exception cref="InvalidOperationException">
    /// The server refused: another connection set the key, the key is a counter, or the store holds its limit of keys or
    /// bytes. The message says which.
    /// </exception>
    /// <exception cref="IOException">The connection to the server was lost.</exception>
    /// <exception cref="ObjectDisposedException">This store was disposed.</exception>
    public void Set(string key, ReadOnlySpan<byte> value)
    {
        byte[] keyBytes = TcpStoreProtocol.EncodeKey(key, _maxKeyBytes);
        if (value.Length > _maxValueBytes)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The value has {value.Length} bytes; the store at {_address} accepts at most {_maxValueBytes}."), nameof(value));
        }

        Call(TcpStoreProtocol.RequestWithValue(TcpStoreProtocol.Set, keyBytes, value), key, ReadFound);
    }

    /// <summary>Reads <paramref name="key"/>, waiting until someone sets it.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentException">The key is empty or too long.</exception>
    /// <exception cref="TimeoutException">Nobody set the key within <see cref="Timeout"/>.</exception>
    /// <exception cref="IOException">The connection to the server was lost.</exception>
    /// <exception cref="ObjectDisposedException">This store was disposed.</exception>
    public byte[] Get(string key)
    {
        byte[] keyBytes = TcpStoreProtocol.EncodeKey(key, _maxKeyBytes);
        byte[]? value = Call(TcpStoreProtocol.Request(TcpStoreProtocol.Get, keyBytes, WaitMilliseconds(Timeout)), key, ReadValue);
        return value ?? throw NotSetInTime(key, Timeout);
    }

    /// <summary>Reads <paramref name="key"/> without waiting.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value, or <see langword="null"/> when the key is not set.</param>
    /// <returns>Whether the key is set.</returns>
    /// <exception cref="ArgumentException">The key is empty or too long.</exception>
    /// <exception cref="IOException">The connection to the server was lost.</exception>
    /// <exception cref="ObjectDisposedException">This store was disposed.</exception>
    public bool TryGet(string key, out byte[]? value)
    {
        byte[] keyBytes = TcpStoreProtocol.EncodeKey(key, _maxKeyBytes);
        value = Call(TcpStoreProtocol.Request(TcpStoreProtocol.Get, keyBytes, 0L), key, ReadValue);
        return value is not null;
    }

    /// <summary>Adds <paramref name="delta"/> to the counter at <paramref name="key"/> atomically (a missing key counts as 0).</summary>
    /// <param name="key">The key. The counter is stored as decimal text, so <see cref="Get(string)"/> reads it as such.</param>
    /// <param name="delta">The amount to add; 0 reads the counter.</param>
    /// <returns>The counter after the addition.</returns>
    /// <exception cref="ArgumentException">The key is empty or too long.</exception>
    /// <exception cref="InvalidOperationException">
    /// The key was written by <see cref="Set(string, ReadOnlySpan{byte})"/>, the sum overflows, or the store holds its limit of
    /// keys or bytes.
    /// </exception>
    /// <exception cref="IOException">The connection to the server was lost.</exception>
    /// <exception cref="ObjectDisposedException">This store was disposed.</exception>
    public long Add(string key, long delta)
    {
        byte[] keyBytes = TcpStoreProtocol.EncodeKey(key, _maxKeyBytes);
        return Call(TcpStoreProtocol.Request(TcpStoreProtocol.Add, keyBytes, delta), key, ReadInt64);
    }

    /// <summary>Waits until every key in <paramref name="keys"/> is set, within one <see cref="Timeout"/> overall.</summary>
    /// <param name="keys">The keys.</param>
    /// <exception cref="ArgumentException">A key is empty or too long.</exception>
    /// <exception cref="TimeoutException">A key was not set in time; the message names it.</exception>
    /// <exception cref="IOException">The connection to the server was lost.</exception>
    /// <exception cref="ObjectDisposedException">This store was disposed.</exception>
    public void Wait(IReadOnlyList<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        byte[][] encoded = [.. keys.Select(k => TcpStoreProtocol.EncodeKey(k, _maxKeyBytes))];
        long deadline = Timeout == System.Threading.Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + WaitMilliseconds(Timeout);
        for (int i = 0; i < keys.Count; i++)
        {
            long wait = deadline == long.MaxValue ? -1 : Math.Max(0, deadline - Environment.TickCount64);
            bool set = Call(TcpStoreProtocol.Request(TcpStoreProtocol.Wait, encoded[i], wait), keys[i], ReadFound);
            if (!set)
            {
                throw NotSetInTime(keys[i], Timeout);
            }
        }
    }

    /// <summary>Closes the connection and, on the server's instance, stops the server and closes every connection.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        // Not under the call lock: closing the socket is what unblocks a call another thread is waiting in.
        _disposed = true;
        _stream.Dispose();
        _server?.Dispose();
        lock (_callLock)
        {
            _channel.Dispose();
        }
    }

    /// <summary>Describes the store.</summary>
    /// <returns>For example <c>TcpStore server at 127.0.0.1:29500</c>.</returns>
    public override string ToString() => (_server is null ? "TcpStore client of " : "TcpStore server at ") + _address;

    /// <summary>Connects (retrying until the server is up) and authenticates: the server proves it knows the secret first.</summary>
    private static TcpStore Open(EndPoint endPoint, byte[] secret, TcpStoreServer? server, string address, int port, TimeSpan timeout)
    {
        Socket socket = Connect(endPoint, address, timeout);
        var stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            TimeSpan handshake = timeout == System.Threading.Timeout.InfiniteTimeSpan || timeout > s_handshakeCeiling ? s_handshakeCeiling
                : timeout < s_handshakeFloor ? s_handshakeFloor
                : timeout;
            socket.ReceiveTimeout = (int)handshake.TotalMilliseconds;
            socket.SendTimeout = (int)handshake.TotalMilliseconds;
            TcpStoreChannel channel = TcpStoreChannel.Connect(stream, secret, address, out int maxKeyBytes, out int maxValueBytes);
            socket.ReceiveTimeout = timeout == System.Threading.Timeout.InfiniteTimeSpan ? 0 : (int)Math.Min(int.MaxValue, (timeout + s_replyGrace).TotalMilliseconds);
            socket.SendTimeout = 0;
            return new TcpStore(stream, channel, maxKeyBytes, maxValueBytes, server, address, port, timeout);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static Socket Connect(EndPoint endPoint, string address, TimeSpan timeout)
    {
        long deadline = timeout == System.Threading.Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + WaitMilliseconds(timeout);
        while (true)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            long remaining = deadline - Environment.TickCount64;
            try
            {
                // Bounded per attempt: an unreachable host would otherwise hold a synchronous connect for minutes.
                using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(Math.Clamp(remaining, 1, int.MaxValue)));
                socket.ConnectAsync(endPoint, cancellation.Token).AsTask().GetAwaiter().GetResult();
                socket.NoDelay = true;
                return socket;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                remaining = deadline - Environment.TickCount64;
                if (remaining <= 0)
                {
                    throw new TimeoutException($"No TcpStore server answered at {address} within {FormatTimeout(timeout)}: {e.Message}", e);
                }

                // The server (rank 0) may simply not be up yet: retry, without spinning.
                Thread.Sleep((int)Math.Min(remaining, 100));
            }
        }
    }

    private T Call<T>(byte[] request, string key, Func<MemoryStream, string, T> readReply)
    {
        lock (_callLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_broken)
            {
                throw new IOException($"The connection to the TcpStore server at {_address} was lost by an earlier call.");
            }

            try
            {
                _channel.Send(request);
                byte[] reply = _channel.Receive(TcpStoreProtocol.MaxReplyBytes(_maxValueBytes))
                    ?? throw new EndOfStreamException("The server closed the connection.");
                using var message = new MemoryStream(reply, writable: false);
                T result = readReply(message, key);
                TcpStoreProtocol.RequireEnd(message);
                return result;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or SocketException or ObjectDisposedException)
            {
                // A half-read reply leaves the stream out of step with the server: no later call can trust it.
                _broken = true;
                ObjectDisposedException.ThrowIf(_disposed, this);
                throw new IOException($"The connection to the TcpStore server at {_address} was lost while accessing '{key}': {e.Message}", e);
            }
        }
    }

    private bool ReadFound(MemoryStream stream, string key) => ReadStatus(stream, key) == TcpStoreProtocol.Ok;

    private byte[]? ReadValue(MemoryStream stream, string key) =>
        ReadStatus(stream, key) == TcpStoreProtocol.Ok ? TcpStoreProtocol.ReadBytes(stream, _maxValueBytes, "value") : null;

    private long ReadInt64(MemoryStream stream, string key)
    {
        byte status = ReadStatus(stream, key);
        return status == TcpStoreProtocol.Ok
            ? TcpStoreProtocol.ReadInt64(stream)
            : throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The TcpStore server at {_address} answered an addition to '{key}' with status {status}."));
    }

    /// <summary>Reads the status byte, turning an error reply into an exception.</summary>
    private byte ReadStatus(MemoryStream stream, string key)
    {
        byte status = TcpStoreProtocol.ReadByte(stream);
        switch (status)
        {
            case TcpStoreProtocol.Ok or TcpStoreProtocol.NotFound:
                return status;
            case TcpStoreProtocol.Error:
                byte[] message = TcpStoreProtocol.ReadBytes(stream, TcpStoreProtocol.MaxMessageBytes, "message");
                throw new InvalidOperationException($"The TcpStore server at {_address} refused the request on '{key}': {Encoding.UTF8.GetString(message)}");
            default:
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The TcpStore server at {_address} answered with the unknown status {status}."));
        }
    }

    private TimeoutException NotSetInTime(string key, TimeSpan timeout) =>
        new($"The key '{key}' was not set in the TcpStore at {_address} within {FormatTimeout(timeout)}.");

    private static long WaitMilliseconds(TimeSpan timeout) =>
        timeout == System.Threading.Timeout.InfiniteTimeSpan ? -1 : (long)Math.Ceiling(timeout.TotalMilliseconds);

    private static string FormatTimeout(TimeSpan timeout) =>
        timeout == System.Threading.Timeout.InfiniteTimeSpan ? "forever" : timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    /// <summary>Formats <c>host:port</c>, bracketing an IPv6 address.</summary>
    internal static string FormatAddress(string host, int port) =>
        host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[')
            ? string.Create(CultureInfo.InvariantCulture, $"[{host}]:{port}")
            : string.Create(CultureInfo.InvariantCulture, $"{host}:{port}");
}
