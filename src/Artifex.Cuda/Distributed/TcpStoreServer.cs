using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Artifex.Cuda.Distributed;

/// <summary>
/// The server side of <see cref="TcpStore"/>: a dictionary behind a lock, one background thread accepting connections and
/// one per connection. A connection that breaks the protocol is dropped; the others keep being served.
/// </summary>
internal sealed class TcpStoreServer : IDisposable
{
    private static readonly TimeSpan s_joinTimeout = TimeSpan.FromSeconds(2);

    // A plain object, not System.Threading.Lock: blocked reads wait on it with Monitor.Wait until a key is set.
    private readonly object _gate = new();
    private readonly Dictionary<string, byte[]> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<Socket, Thread> _connections = [];
    private readonly Socket _listener;
    private readonly Thread _acceptThread;
    private bool _disposed;

    private TcpStoreServer(Socket listener, IPAddress connectAddress)
    {
        _listener = listener;
        var bound = (IPEndPoint)listener.LocalEndPoint!;
        Port = bound.Port;
        ConnectEndPoint = new IPEndPoint(connectAddress, bound.Port);
        _acceptThread = new Thread(AcceptLoop) { IsBackground = true, Name = "Artifex TcpStore accept" };
        _acceptThread.Start();
    }

    /// <summary>Gets the port the server listens on (the ephemeral one when started with port 0).</summary>
    public int Port { get; }

    /// <summary>Gets the address and port the server listens on.</summary>
    public IPEndPoint ListenEndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>Gets where a client on this host reaches the server.</summary>
    public IPEndPoint ConnectEndPoint { get; }

    /// <summary>Starts listening.</summary>
    /// <param name="host">
    /// An IP address to listen on only that address; a loopback name (<c>localhost</c>) to listen on 127.0.0.1 only; any
    /// other name listens on all interfaces, because a host name seen from this machine can resolve differently (127.0.1.1
    /// on Debian) from what the other hosts connect to.
    /// </param>
    /// <param name="port">The port, or 0 for an ephemeral one.</param>
    public static TcpStoreServer Start(string host, int port)
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
            return new TcpStoreServer(listener, connectAddress);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Stops listening, closes every connection and waits briefly for the threads to end.</summary>
    public void Dispose()
    {
        Thread[] threads;
        Socket[] sockets;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Monitor.PulseAll(_gate);
            sockets = [.. _connections.Keys];
            threads = [.. _connections.Values];
        }

        _listener.Dispose();
        foreach (Socket socket in sockets)
        {
            socket.Dispose();
        }

        long deadline = Environment.TickCount64 + (long)s_joinTimeout.TotalMilliseconds;
        foreach (Thread thread in threads.Append(_acceptThread))
        {
            if (thread != Thread.CurrentThread)
            {
                thread.Join(TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64)));
            }
        }
    }

    private void AcceptLoop()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return; // Disposed: the listener was closed under Accept.
            }

            var thread = new Thread(() => Serve(socket)) { IsBackground = true, Name = "Artifex TcpStore connection" };
            lock (_gate)
            {
                if (_disposed)
                {
                    socket.Dispose();
                    return;
                }

                // Started under the lock so that Dispose never joins a thread that has not started.
                _connections.Add(socket, thread);
                thread.Start();
            }
        }
    }

    private void Serve(Socket socket)
    {
        try
        {
            socket.NoDelay = true;
            using var stream = new NetworkStream(socket, ownsSocket: false);
            while (true)
            {
                int opcode = stream.ReadByte();
                if (opcode < 0)
                {
                    return;
                }

                string key = TcpStoreProtocol.ReadKey(stream);
                byte[]? reply = Handle((byte)opcode, key, stream);
                if (reply is null)
                {
                    return;
                }

                stream.Write(reply);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or SocketException or ObjectDisposedException)
        {
            // The peer left, sent garbage or the server is closing: drop only this connection.
        }
        finally
        {
            lock (_gate)
            {
                _connections.Remove(socket);
            }

            socket.Dispose();
        }
    }

    /// <summary>Runs one request; returns the reply, or <see langword="null"/> when the server is closing.</summary>
    private byte[]? Handle(byte opcode, string key, NetworkStream stream)
    {
        switch (opcode)
        {
            case TcpStoreProtocol.Set:
                byte[] value = TcpStoreProtocol.ReadBytes(stream, TcpStoreProtocol.MaxValueBytes, "value");
                lock (_gate)
                {
                    _values[key] = value;
                    Monitor.PulseAll(_gate);
                }

                return TcpStoreProtocol.Reply(TcpStoreProtocol.Ok, [], lengthPrefixed: false);
            case TcpStoreProtocol.Get:
            case TcpStoreProtocol.Wait:
                long waitMilliseconds = TcpStoreProtocol.ReadInt64(stream);
                return WaitFor(key, waitMilliseconds, sendValue: opcode == TcpStoreProtocol.Get);
            case TcpStoreProtocol.Add:
                return Add(key, TcpStoreProtocol.ReadInt64(stream));
            default:
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"Unknown opcode {opcode}."));
        }
    }

    private byte[]? WaitFor(string key, long waitMilliseconds, bool sendValue)
    {
        if (waitMilliseconds < -1)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"A wait of {waitMilliseconds} ms."));
        }

        long deadline = waitMilliseconds < 0 ? long.MaxValue : Environment.TickCount64 + waitMilliseconds;
        byte[]? value;
        lock (_gate)
        {
            while (!_values.TryGetValue(key, out value) && !_disposed)
            {
                long remaining = deadline - Environment.TickCount64;
                if (remaining <= 0)
                {
                    break;
                }

                Monitor.Wait(_gate, (int)Math.Min(remaining, int.MaxValue));
            }

            if (_disposed)
            {
                return null;
            }
        }

        return value is null
            ? TcpStoreProtocol.Reply(TcpStoreProtocol.NotFound, [], lengthPrefixed: false)
            : TcpStoreProtocol.Reply(TcpStoreProtocol.Ok, sendValue ? value : [], lengthPrefixed: sendValue);
    }

    private byte[] Add(string key, long delta)
    {
        long total;
        lock (_gate)
        {
            // Counters are stored as decimal text, as c10d's TCPStore does, so a Get of a counter reads naturally.
            long current = 0;
            if (_values.TryGetValue(key, out byte[]? existing)
                && !long.TryParse(existing, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out current))
            {
                return TcpStoreProtocol.ErrorReply($"The value of '{key}' is not a counter.");
            }

            try
            {
                total = checked(current + delta);
            }
            catch (OverflowException)
            {
                return TcpStoreProtocol.ErrorReply(string.Create(CultureInfo.InvariantCulture, $"Adding {delta} to '{key}' = {current} overflows."));
            }

            _values[key] = Encoding.ASCII.GetBytes(total.ToString(CultureInfo.InvariantCulture));
            Monitor.PulseAll(_gate);
        }

        byte[] reply = new byte[9];
        reply[0] = TcpStoreProtocol.Ok;
        BinaryPrimitives.WriteInt64LittleEndian(reply.AsSpan(1), total);
        return reply;
    }
}
