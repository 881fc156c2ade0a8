using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Artifex.Cuda.Distributed;

/// <summary>
/// The server side of <see cref="TcpStore"/>: a dictionary behind a lock, served with asynchronous I/O, so that a connection
/// costs a socket and a little memory, never a thread. Every bound is in <see cref="TcpStoreOptions"/>: connections beyond
/// the limit are refused, a connection that does not authenticate in time or sits idle is dropped, and a request that would
/// exceed the key count or the stored bytes is refused with an error reply. A connection that breaks the protocol (a wrong
/// proof of the secret, a forged, replayed or malformed message, an oversized one) is dropped and logged; the others keep
/// being served.
/// </summary>
internal sealed class TcpStoreServer : IDisposable
{
    // The owner of a key written by Add: counters are shared by every connection and changed only by Add.
    private const long CounterOwner = 0;

    private static readonly TimeSpan s_joinTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_handshakeCeiling = TimeSpan.FromSeconds(30);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, (byte[] Value, long Owner)> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<long, (Socket Socket, Task? Serving)> _connections = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Socket _listener;
    private readonly TcpStoreOptions _options;
    private readonly byte[] _secret;
    private readonly ILogger _logger;
    private readonly string _address;
    private readonly int _maxRequestBytes;
    private readonly Task _accepting;
    private TaskCompletionSource _changed = NewSignal();
    private long _storedBytes;
    private long _lastConnection;
    private bool _disposed;

    private TcpStoreServer(Socket listener, IPAddress connectAddress, string host, TcpStoreOptions options, byte[] secret)
    {
        _listener = listener;
        _options = options;
        _secret = secret;
        _logger = options.Logger ?? NullLogger.Instance;
        _maxRequestBytes = TcpStoreProtocol.MaxRequestBytes(options.MaxKeyBytes, options.MaxValueBytes);
        var bound = (IPEndPoint)listener.LocalEndPoint!;
        Port = bound.Port;
        ListenEndPoint = bound;
        ConnectEndPoint = new IPEndPoint(connectAddress, bound.Port);
        _address = TcpStore.FormatAddress(host, bound.Port);
        _accepting = AcceptAsync();
    }

    /// <summary>Gets the port the server listens on (the ephemeral one when started with port 0).</summary>
    public int Port { get; }

    /// <summary>Gets the address and port the server listens on.</summary>
    public IPEndPoint ListenEndPoint { get; }

    /// <summary>Gets where a client on this host reaches the server.</summary>
    public IPEndPoint ConnectEndPoint { get; }

    /// <summary>Starts listening.</summary>
    /// <param name="host">
    /// An IP address to listen on only that address; a loopback name (<c>localhost</c>) to listen on 127.0.0.1 only; any
    /// other name listens on all interfaces, because a host name seen from this machine can resolve differently (127.0.1.1
    /// on Debian) from what the other hosts connect to.
    /// </param>
    /// <param name="port">The port, or 0 for an ephemeral one.</param>
    /// <param name="options">The limits, already validated.</param>
    /// <param name="secret">The job secret.</param>
    /// <exception cref="SocketException">The port cannot be bound; the message names the address and port.</exception>
    public static TcpStoreServer Start(string host, int port, TcpStoreOptions options, byte[] secret)
    {
        Socket listener;
        IPAddress connectAddress;
        if (TcpStoreProtocol.TryParseLoopbackOrAddress(host, out IPAddress? address))
        {
            listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            connectAddress = address.Equals(IPAddress.Any) ? IPAddress.Loopback : address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback : address;
        }
        else
        {
            // Dual-mode where the OS has IPv6, so 127.0.0.1 reaches it even on hosts where ::1 is not configured.
            listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
            address = listener.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
            connectAddress = IPAddress.Loopback;
        }

        try
        {
            // No ReuseAddress: .NET already sets SO_REUSEADDR when binding on Unix (so a restarted job can take MASTER_PORT
            // while old connections linger), and its ReuseAddress option would add SO_REUSEPORT, letting two servers share it.
            listener.Bind(new IPEndPoint(address, port));
            listener.Listen(128);
            return new TcpStoreServer(listener, connectAddress, host, options, secret);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            string held = e.SocketErrorCode == SocketError.AddressAlreadyInUse
                ? " Another process holds the port: an earlier run of the job that has not exited, another job, or a program squatting on it."
                : string.Empty;
            throw new SocketException((int)e.SocketErrorCode, $"The TcpStore server cannot listen on {TcpStore.FormatAddress(host, port)} ({new IPEndPoint(address, port)}): {e.Message}.{held}");
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Stops listening, closes every connection, releases every waiting request and waits briefly for them to end.</summary>
    public void Dispose()
    {
        Socket[] sockets;
        Task[] serving;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            sockets = [.. _connections.Values.Select(static c => c.Socket)];
            serving = [.. _connections.Values.Select(static c => c.Serving).OfType<Task>()];
            Signal();
        }

        _stopping.Cancel();
        _listener.Dispose();
        foreach (Socket socket in sockets)
        {
            socket.Dispose();
        }

        // The tasks never fault (ServeAsync reports every failure itself); they may only outlast the wait.
        if (Task.WaitAll([.. serving, _accepting], s_joinTimeout))
        {
            _stopping.Dispose();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (_stopping.IsCancellationRequested && e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return; // Disposed: the listener was closed under the accept.
            }
            catch (SocketException e)
            {
                // For example out of file descriptors: report it, pause so that the loop does not spin, and keep serving.
                TcpStoreLog.AcceptFailed(_logger, _address, e.Message);
                await Task.Delay(100, _stopping.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }

            Admit(socket);
        }
    }

    private void Admit(Socket socket)
    {
        string peer = socket.RemoteEndPoint?.ToString() ?? "an unknown peer";
        long id = 0;
        lock (_gate)
        {
            if (_disposed)
            {
                socket.Dispose();
                return;
            }

            if (_connections.Count < _options.MaxConnections)
            {
                id = ++_lastConnection;
                _connections.Add(id, (socket, null));
            }
        }

        if (id == 0)
        {
            Refuse(socket, peer);
            return;
        }

        Task serving = ServeAsync(id, socket, peer);
        lock (_gate)
        {
            // Unless it already ended: then it removed itself, and must not come back.
            if (_connections.ContainsKey(id))
            {
                _connections[id] = (socket, serving);
            }
        }
    }

    private void Refuse(Socket socket, string peer)
    {
        string reason = string.Create(CultureInfo.InvariantCulture, $"it holds its limit of {_options.MaxConnections} connections (TcpStoreOptions.MaxConnections)");
        TcpStoreLog.Refused(_logger, _address, peer, reason);
        try
        {
            // Non-blocking: the reason fits an empty send buffer; the accept loop never waits on a peer.
            socket.Blocking = false;
            socket.Send(TcpStoreChannel.RefusalMessage(reason));
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException e)
        {
            TcpStoreLog.Lost(_logger, _address, peer, "before it was told why it was refused: " + e.Message);
        }
        finally
        {
            socket.Dispose();
        }
    }

    private async Task ServeAsync(long id, Socket socket, string peer)
    {
        bool authenticated = false;
        try
        {
            socket.NoDelay = true;
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            using var stream = new NetworkStream(socket, ownsSocket: false);
            TimeSpan handshakeLimit = _options.IdleTimeout < s_handshakeCeiling ? _options.IdleTimeout : s_handshakeCeiling;
            TcpStoreChannel accepted;
            using (CancellationTokenSource limit = Limit(handshakeLimit))
            {
                accepted = await TcpStoreChannel.AcceptAsync(stream, _secret, _options.MaxKeyBytes, _options.MaxValueBytes, limit.Token).ConfigureAwait(false);
            }

            using TcpStoreChannel channel = accepted;
            authenticated = true;
            await ServeRequestsAsync(id, channel).ConfigureAwait(false);
        }
        catch (Exception e) when (_stopping.IsCancellationRequested && e is OperationCanceledException or ObjectDisposedException or IOException or SocketException)
        {
            // The server is closing: it closed this connection under the read or the write. Nothing went wrong.
        }
        catch (OperationCanceledException)
        {
            string reason = authenticated
                ? string.Create(CultureInfo.InvariantCulture, $"no request within {_options.IdleTimeout.TotalSeconds:0.###} s (TcpStoreOptions.IdleTimeout)")
                : "it did not authenticate in time";
            TcpStoreLog.Dropped(_logger, _address, peer, reason);
        }
        catch (Exception e) when (e is InvalidDataException or AuthenticationException)
        {
            TcpStoreLog.Dropped(_logger, _address, peer, e.Message);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            TcpStoreLog.Lost(_logger, _address, peer, e.Message);
        }
        catch (Exception e)
        {
            // A defect of the server, not of the peer: reported in full. This connection ends; the others are still served.
            TcpStoreLog.Failed(_logger, _address, peer, e);
        }
        finally
        {
            lock (_gate)
            {
                _connections.Remove(id);
            }

            socket.Dispose();
        }
    }

    /// <summary>Answers requests until the client leaves or the server closes.</summary>
    private async Task ServeRequestsAsync(long id, TcpStoreChannel channel)
    {
        while (true)
        {
            byte[]? request;
            using (CancellationTokenSource limit = Limit(_options.IdleTimeout))
            {
                request = await channel.ReceiveAsync(_maxRequestBytes, limit.Token).ConfigureAwait(false);
            }

            if (request is null)
            {
                return; // The client closed the connection between requests: it is done.
            }

            byte[]? reply = await HandleAsync(id, request).ConfigureAwait(false);
            if (reply is null)
            {
                return; // The server is closing.
            }

            using (CancellationTokenSource limit = Limit(_options.IdleTimeout))
            {
                await channel.SendAsync(reply, limit.Token).ConfigureAwait(false);
            }
        }
    }

    private CancellationTokenSource Limit(TimeSpan timeout)
    {
        var limit = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        limit.CancelAfter(timeout);
        return limit;
    }

    /// <summary>Runs one request; returns the reply, or <see langword="null"/> when the server is closing.</summary>
    /// <exception cref="InvalidDataException">The request is malformed.</exception>
    private async Task<byte[]?> HandleAsync(long connection, byte[] request)
    {
        (byte opcode, string key, byte[]? value, long operand) = Parse(request);
        return opcode switch
        {
            TcpStoreProtocol.Set => Set(connection, key, value!),
            TcpStoreProtocol.Add => Add(key, operand),
            _ => await WaitForAsync(key, operand, sendValue: opcode == TcpStoreProtocol.Get).ConfigureAwait(false),
        };
    }

    private (byte Opcode, string Key, byte[]? Value, long Operand) Parse(byte[] request)
    {
        using var message = new MemoryStream(request, writable: false);
        try
        {
            byte opcode = TcpStoreProtocol.ReadByte(message);
            string key = TcpStoreProtocol.ReadKey(message, _options.MaxKeyBytes);
            (byte[]? value, long operand) = opcode switch
            {
                TcpStoreProtocol.Set => (TcpStoreProtocol.ReadBytes(message, _options.MaxValueBytes, "value"), 0L),
                TcpStoreProtocol.Get or TcpStoreProtocol.Wait or TcpStoreProtocol.Add => ((byte[]?)null, TcpStoreProtocol.ReadInt64(message)),
                _ => throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"Unknown opcode {opcode}.")),
            };
            TcpStoreProtocol.RequireEnd(message);
            if (opcode is TcpStoreProtocol.Get or TcpStoreProtocol.Wait && operand < -1)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"A wait of {operand} ms."));
            }

            return (opcode, key, value, operand);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("A truncated request.", e);
        }
    }

    /// <summary>
    /// Sets a key. A key belongs to the connection that first set it: only that connection may replace it, so that nobody
    /// else (a confused rank, or a second writer) can swap the value that the others are reading, such as NCCL's id.
    /// </summary>
    private byte[] Set(long connection, string key, byte[] value)
    {
        lock (_gate)
        {
            long stored;
            if (_values.TryGetValue(key, out (byte[] Value, long Owner) existing))
            {
                if (existing.Owner != connection)
                {
                    return TcpStoreProtocol.ErrorReply(existing.Owner == CounterOwner
                        ? $"'{key}' is a counter: only Add changes it."
                        : $"'{key}' was set by another connection: only the connection that set a key may replace it.");
                }

                stored = _storedBytes - existing.Value.Length + value.Length;
            }
            else
            {
                if (_values.Count >= _options.MaxKeys)
                {
                    return TooManyKeys(key);
                }

                stored = _storedBytes + Encoding.UTF8.GetByteCount(key) + value.Length;
            }

            if (stored > _options.MaxStoredBytes)
            {
                return TooManyBytes(key, stored);
            }

            _values[key] = (value, connection);
            _storedBytes = stored;
            Signal();
        }

        return TcpStoreProtocol.Reply(TcpStoreProtocol.Ok, [], lengthPrefixed: false);
    }

    private async Task<byte[]?> WaitForAsync(string key, long waitMilliseconds, bool sendValue)
    {
        long deadline = waitMilliseconds < 0 ? long.MaxValue : Environment.TickCount64 + waitMilliseconds;
        while (true)
        {
            Task changed;
            long remaining;
            lock (_gate)
            {
                if (_disposed)
                {
                    return null;
                }

                if (_values.TryGetValue(key, out (byte[] Value, long Owner) entry))
                {
                    return TcpStoreProtocol.Reply(TcpStoreProtocol.Ok, sendValue ? entry.Value : [], lengthPrefixed: sendValue);
                }

                bool forever = deadline == long.MaxValue;
                remaining = forever ? Timeout.Infinite : deadline - Environment.TickCount64;
                if (!forever && remaining <= 0)
                {
                    return TcpStoreProtocol.Reply(TcpStoreProtocol.NotFound, [], lengthPrefixed: false);
                }

                changed = _changed.Task;
            }

            // Woken by any change, or the deadline; the timer is cancelled as soon as either happens, so none accumulate.
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            Task delay = Task.Delay((int)Math.Min(remaining, int.MaxValue), timer.Token);
            await Task.WhenAny(changed, delay).ConfigureAwait(false);
            await timer.CancelAsync().ConfigureAwait(false);
        }
    }

    private byte[] Add(string key, long delta)
    {
        long total;
        lock (_gate)
        {
            // Counters are stored as decimal text, as c10d's TCPStore does, so a Get of a counter reads naturally.
            long current = 0;
            long keyBytes = 0;
            long oldBytes = 0;
            if (_values.TryGetValue(key, out (byte[] Value, long Owner) existing))
            {
                oldBytes = existing.Value.Length;
                if (existing.Owner != CounterOwner
                    || !long.TryParse(existing.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out current))
                {
                    return TcpStoreProtocol.ErrorReply($"The value of '{key}' is not a counter: it was written by Set.");
                }
            }
            else if (_values.Count >= _options.MaxKeys)
            {
                return TooManyKeys(key);
            }
            else
            {
                keyBytes = Encoding.UTF8.GetByteCount(key);
            }

            try
            {
                total = checked(current + delta);
            }
            catch (OverflowException)
            {
                return TcpStoreProtocol.ErrorReply(string.Create(CultureInfo.InvariantCulture, $"Adding {delta} to '{key}' = {current} overflows."));
            }

            byte[] text = Encoding.ASCII.GetBytes(total.ToString(CultureInfo.InvariantCulture));
            long stored = _storedBytes + keyBytes + text.Length - oldBytes;
            if (stored > _options.MaxStoredBytes)
            {
                return TooManyBytes(key, stored);
            }

            _values[key] = (text, CounterOwner);
            _storedBytes = stored;
            Signal();
        }

        byte[] reply = new byte[9];
        reply[0] = TcpStoreProtocol.Ok;
        BinaryPrimitives.WriteInt64LittleEndian(reply.AsSpan(1), total);
        return reply;
    }

    private byte[] TooManyKeys(string key) =>
        TcpStoreProtocol.ErrorReply(string.Create(CultureInfo.InvariantCulture, $"The store holds its limit of {_options.MaxKeys} keys (TcpStoreOptions.MaxKeys); '{key}' was not added."));

    private byte[] TooManyBytes(string key, long stored) =>
        TcpStoreProtocol.ErrorReply(string.Create(CultureInfo.InvariantCulture, $"Writing '{key}' would make the store hold {stored} bytes; its limit is {_options.MaxStoredBytes} (TcpStoreOptions.MaxStoredBytes)."));

    /// <summary>Wakes every waiting request; called under the lock.</summary>
    private void Signal()
    {
        TaskCompletionSource changed = _changed;
        _changed = NewSignal();
        changed.SetResult();
    }
}
