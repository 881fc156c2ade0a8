using System.Net;
using System.Net.Sockets;
using Artifex.Cuda.Distributed;

namespace Artifex.Cuda.Tests.Distributed;

/// <summary>Connections to a <see cref="TcpStore"/> server below the client: raw sockets, or channels a test drives by hand.</summary>
internal static class RawStore
{
    /// <summary>The length of the server's greeting: magic, nonce and limits.</summary>
    public const int GreetingBytes = 4 + TcpStoreChannel.NonceBytes + 8;

    /// <summary>The server's verdict on a wrong proof of the secret.</summary>
    public const byte Rejected = 1;

    /// <summary>A hang guard far beyond anything a loaded machine needs.</summary>
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    public static async Task<Socket> ConnectAsync(int port, CancellationToken cancellation)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port, cancellation).ConfigureAwait(false);
        return socket;
    }

    /// <summary>Reads until the server closes the connection; fails the test if it has not within <see cref="Generous"/>.</summary>
    public static async Task<byte[]> ReadToEndAsync(Socket socket, CancellationToken cancellation)
    {
        var received = new List<byte>();
        byte[] buffer = new byte[256];
        while (true)
        {
            int count = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellation).AsTask().WaitAsync(Generous, cancellation).ConfigureAwait(false);
            if (count == 0)
            {
                return [.. received];
            }

            received.AddRange(buffer.AsSpan(0, count));
        }
    }

    /// <summary>Connects and authenticates with <paramref name="secret"/>, recording what this side writes.</summary>
    public static (RecordingStream Stream, TcpStoreChannel Channel) ConnectAuthenticated(int port, string secret)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Connect(IPAddress.Loopback, port);
        socket.ReceiveTimeout = (int)Generous.TotalMilliseconds;
        var stream = new RecordingStream(new NetworkStream(socket, ownsSocket: true));
        TcpStoreChannel channel = TcpStoreChannel.Connect(stream, System.Text.Encoding.UTF8.GetBytes(secret), $"127.0.0.1:{port}", out _, out _);
        return (stream, channel);
    }

    /// <summary>Whether the server closed the connection (rather than answering): a dropped connection reads as closed.</summary>
    public static bool ServerClosed(TcpStoreChannel channel)
    {
        try
        {
            return channel.Receive(1 << 20) is null;
        }
        catch (IOException e) when (e.InnerException is not SocketException { SocketErrorCode: SocketError.TimedOut })
        {
            return true; // Reset rather than closed: dropped all the same. A read that timed out is no drop: it fails the test.
        }
    }
}
