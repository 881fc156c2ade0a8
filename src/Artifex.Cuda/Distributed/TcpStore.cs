using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Artifex.Cuda.Distributed;

/// <summary>
/// A small key/value store over TCP, in the manner of PyTorch's c10d <c>TCPStore</c>: rank 0 serves it at
/// <c>MASTER_ADDR:MASTER_PORT</c> and publishes NCCL's unique id under a key; the other ranks block on that key until it
/// appears.
/// </summary>
/// <remarks>
/// <para>
/// Every instance is a client with one connection; the server's instance also runs the server. Calls are serialized on the
/// connection, so an instance can be shared between threads, but a blocked <see cref="Get(string)"/> holds up the other
/// calls of the same instance. Keys are at most 1 KiB in UTF-8 and values at most 1 MiB.
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

    private readonly Lock _callLock = new();
    private readonly NetworkStream _stream;
    private readonly TcpStoreServer? _server;
    private readonly string _address;
    private volatile bool _disposed;
    private bool _broken;

    private TcpStore(Socket socket, TcpStoreServer? server, string address, int port, TimeSpan timeout)
    {
        _stream = new NetworkStream(socket, ownsSocket: true);
        _server = server;
        _address = address;
        Port = port;
        Timeout = timeout;
        if (timeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            socket.ReceiveTimeout = (int)Math.Min(int.MaxValue, (timeout + s_replyGrace).TotalMilliseconds);
        }
    }

    /// <summary>Gets the server's port; for a server started on port 0, the ephemeral port it was given.</summary>
    public int Port { get; }

    /// <summary>Gets how long connecting and each blocking read wait.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Gets where the server listens, on the server's instance; <see langword="null"/> on a client.</summary>
    internal IPEndPoint? ListenEndPoint => _server?.ListenEndPoint;

    /// <summary>Starts the server (and connects to it), or connects to a server.</summary>
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
    /// <exception cref="ArgumentException"><paramref name="host"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> or <paramref name="timeout"/> is out of range.</exception>
    /// <exception cref="SocketException">The server cannot listen on <paramref name="host"/>:<paramref name="port"/>.</exception>
    /// <exception cref="TimeoutException">No server answered at <paramref name="host"/>:<paramref name="port"/> in time.</exception>
    public static TcpStore Start(string host, int port, bool isServer, TimeSpan timeout)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, isServer ? 0 : 1);
        if (timeout <= TimeSpan.Zero && timeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be positive or Timeout.InfiniteTimeSpan.");
        }

        if (!isServer)
        {
            EndPoint endPoint = TcpStoreProtocol.TryParseLoopbackOrAddress(host, out IPAddress? ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
            string address = FormatAddress(host, port);
            return new TcpStore(Connect(endPoint, address, timeout), server: null, address, port, timeout);
        }

        TcpStoreServer server = TcpStoreServer.Start(host, port);
        try
        {
            string address = FormatAddress(host, server.Port);
            return new TcpStore(Connect(server.ConnectEndPoint, address, timeout), server, address, server.Port, timeout);
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>, waking everyone waiting for it.</summary>
    /// <param name="key">The key: not empty, at most 1 KiB in UTF-8.</param>
    /// <param name="value">The value: at most 1 MiB.</param>
    /// <exception cref="ArgumentException">The key or the value is too long, or the key is empty.</exception>
    /// <exception cref="IOException">The connection to the server was lost.</exception>
    /// <exception cref="ObjectDisposedException">This store was disposed.</exception>
    public void Set(string key, ReadOnlySpan<byte> value)
    {
        byte[] keyBytes = TcpStoreProtocol.EncodeKey(key);
        if (value.Length > TcpStoreProtocol.MaxValueBytes)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The value has {value.Length} bytes; the store accepts at most {TcpStoreProtocol.MaxValueBytes}."), nameof(value));
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
        byte[] keyBytes = TcpStoreProtocol.EncodeKey(key);
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
        byte[] keyBytes = TcpStoreProtocol.EncodeKey(key);
        value = Call(TcpStoreProtocol.Request(TcpStoreProtocol.Get, keyBytes, 0L), key, ReadValue);
        return value is not null;
    }

    /// <summary>Adds <paramref name="delta"/> to the counter at <paramref name="key"/> atomically (a missing key counts as 0).</summary>
    /// <param name="key">The key. The counter is stored as decimal text, so <see cref="Get(string)"/> reads it as such.</param>
    /// <param name="delta">The amount to add; 0 reads the counter.</param>
    /// <returns>The counter after the addition.</returns>
    /// <exception cref="ArgumentException">The key is empty or too long.</exception>
    /// <exception cref="InvalidOperationException">The key holds something other than a counter, or the sum overflows.</exception>
    /// <exception cref="IOException">The connection to the server was lost.</exception>
    /// <exception cref="ObjectDisposedException">This store was disposed.</exception>
    public long Add(string key, long delta)
    {
        byte[] keyBytes = TcpStoreProtocol.EncodeKey(key);
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
        byte[][] encoded = [.. keys.Select(TcpStoreProtocol.EncodeKey)];
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
    }

    /// <summary>Describes the store.</summary>
    /// <returns>For example <c>TcpStore server at 127.0.0.1:29500</c>.</returns>
    public override string ToString() => (_server is null ? "TcpStore client of " : "TcpStore server at ") + _address;

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

    private T Call<T>(byte[] request, string key, Func<NetworkStream, string, T> readReply)
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
                _stream.Write(request);
                return readReply(_stream, key);
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

    private bool ReadFound(NetworkStream stream, string key) => ReadStatus(stream, key) == TcpStoreProtocol.Ok;

    private byte[]? ReadValue(NetworkStream stream, string key) =>
        ReadStatus(stream, key) == TcpStoreProtocol.Ok ? TcpStoreProtocol.ReadBytes(stream, TcpStoreProtocol.MaxValueBytes, "value") : null;

    private long ReadInt64(NetworkStream stream, string key)
    {
        byte status = ReadStatus(stream, key);
        return status == TcpStoreProtocol.Ok
            ? TcpStoreProtocol.ReadInt64(stream)
            : throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The TcpStore server at {_address} answered an addition to '{key}' with status {status}."));
    }

    /// <summary>Reads the status byte, turning an error reply into an exception.</summary>
    private byte ReadStatus(NetworkStream stream, string key)
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

    private static string FormatAddress(string host, int port) =>
        host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[')
            ? string.Create(CultureInfo.InvariantCulture, $"[{host}]:{port}")
            : string.Create(CultureInfo.InvariantCulture, $"{host}:{port}");
}
