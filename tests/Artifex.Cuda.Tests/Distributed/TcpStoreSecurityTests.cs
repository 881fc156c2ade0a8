using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using Artifex.Cuda.Distributed;

namespace Artifex.Cuda.Tests.Distributed;

/// <summary>
/// The faults of the store's audit, each replayed against the server: strangers on loopback, floods of connections, idle
/// connections, oversized and too many keys, forged and replayed messages, and a program squatting on the port. No test
/// asserts on time: each waits for an outcome, with a generous guard.
/// </summary>
public sealed class TcpStoreSecurityTests
{
    private const string Loopback = "127.0.0.1";
    private const string Secret = "the-job-secret-0123456789";
    private const string OtherSecret = "another-secret-0123456789";
    private const int TestTimeoutMs = 60_000;

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact(Timeout = TestTimeoutMs)]
    public async Task ConnectionsBeyondTheLimit_AreRefused_NamingTheLimit_AndAdmittedOnceOneCloses()
    {
        // The server's own client holds one of the two connections; the raw socket the other.
        using TcpStore server = StartServer(new TcpStoreOptions { Secret = Secret, MaxConnections = 2 });
        Socket squatter = await RawStore.ConnectAsync(server.Port, TestContext.Current.CancellationToken);
        await ReadGreetingAsync(squatter);

        IOException refused = Assert.Throws<IOException>(() => StartClient(server.Port));
        Assert.Contains("limit of 2 connections", refused.Message, StringComparison.Ordinal);
        Assert.Contains(Address(server.Port), refused.Message, StringComparison.Ordinal);

        squatter.Dispose();
        using TcpStore client = await ConnectOnceAdmittedAsync(server.Port);
        client.Set("k", [1]);
        Assert.Equal([1], server.Get("k"));
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task HalfOpenConnection_ThatNeverAuthenticates_IsDropped()
    {
        using TcpStore server = StartServer(new TcpStoreOptions { Secret = Secret, IdleTimeout = TimeSpan.FromMilliseconds(200) });
        using Socket silent = await RawStore.ConnectAsync(server.Port, TestContext.Current.CancellationToken);

        byte[] received = await RawStore.ReadToEndAsync(silent, TestContext.Current.CancellationToken);

        Assert.Equal(RawStore.GreetingBytes, received.Length);
    }

    [Fact]
    public void AuthenticatedConnection_ThatFallsSilent_IsDropped()
    {
        // Long enough for the handshake to finish on a loaded machine; the test then waits for the drop however long it takes.
        using TcpStore server = StartServer(new TcpStoreOptions { Secret = Secret, IdleTimeout = TimeSpan.FromSeconds(5) });
        (RecordingStream stream, TcpStoreChannel channel) = RawStore.ConnectAuthenticated(server.Port, Secret);
        using (stream)
        using (channel)
        {
            Assert.True(RawStore.ServerClosed(channel));
        }
    }

    [Fact]
    public void OversizedKeyOrValue_IsRefusedByTheClient_NamingTheServersLimit()
    {
        using TcpStore server = StartServer(new TcpStoreOptions { Secret = Secret, MaxKeyBytes = 16, MaxValueBytes = 32 });
        using TcpStore client = StartClient(server.Port);

        ArgumentException key = Assert.Throws<ArgumentException>(() => client.Set(new string('k', 17), [1]));
        ArgumentException value = Assert.Throws<ArgumentException>(() => client.Set("k", new byte[33]));

        Assert.Equal("key", key.ParamName);
        Assert.Contains("at most 16", key.Message, StringComparison.Ordinal);
        Assert.Equal("value", value.ParamName);
        Assert.Contains("at most 32", value.Message, StringComparison.Ordinal);
        client.Set(new string('k', 16), new byte[32]);
        Assert.Equal(new byte[32], server.Get(new string('k', 16)));
    }

    [Fact]
    public void OversizedRequest_ThatBypassesTheClient_DropsTheConnection_AndStoresNothing()
    {
        using TcpStore server = StartServer(new TcpStoreOptions { Secret = Secret, MaxKeyBytes = 16, MaxValueBytes = 32 });
        (RecordingStream stream, TcpStoreChannel channel) = RawStore.ConnectAuthenticated(server.Port, Secret);
        using (stream)
        using (channel)
        {
            channel.Send(SetRequest("big", new byte[4096]));

            Assert.True(RawStore.ServerClosed(channel));
        }

        Assert.False(server.TryGet("big", out _));
    }

    [Fact]
    public void KeysBeyondTheLimit_AreRefused_NamingTheLimit_AndTheStoredOnesStay()
    {
        using TcpStore server = StartServer(new TcpStoreOptions { Secret = Secret, MaxKeys = 3 });
        using TcpStore client = StartClient(server.Port);
        client.Set("a", [1]);
        client.Set("b", [2]);
        client.Add("c", 3);

        InvalidOperationException set = Assert.Throws<InvalidOperationException>(() => client.Set("d", [4]));
        InvalidOperationException add = Assert.Throws<InvalidOperationException>(() => client.Add("e", 1));

        Assert.Contains("limit of 3 keys", set.Message, StringComparison.Ordinal);
        Assert.Contains("'d'", set.Message, StringComparison.Ordinal);
        Assert.Contains("limit of 3 keys", add.Message, StringComparison.Ordinal);
        Assert.Equal([1], server.Get("a"));
        Assert.Equal(4, client.Add("c", 1));
        client.Set("a", [9]);
        Assert.Equal([9], server.Get("a"));
    }

    [Fact]
    public void BytesBeyondTheLimit_AreRefused_NamingTheLimit()
    {
        using TcpStore server = StartServer(new TcpStoreOptions { Secret = Secret, MaxStoredBytes = 100 });
        using TcpStore client = StartClient(server.Port);
        client.Set("first", new byte[60]);

        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => client.Set("second", new byte[60]));

        Assert.Contains("MaxStoredBytes", e.Message, StringComparison.Ordinal);
        Assert.False(server.TryGet("second", out _));
        client.Set("second", new byte[20]);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task StrangerWithoutTheSecret_CannotReadTheId()
    {
        using TcpStore server = StartServer();
        byte[] id = RandomNumberGenerator.GetBytes(128);
        server.Set("nccl/id", id);

        // The old protocol's Get of the id, sent where the proof of the secret belongs.
        using Socket stranger = await RawStore.ConnectAsync(server.Port, TestContext.Current.CancellationToken);
        byte[] get = new byte[64];
        get[0] = 2;
        BinaryPrimitives.WriteInt32LittleEndian(get.AsSpan(1), 7);
        "nccl/id"u8.CopyTo(get.AsSpan(5));
        await stranger.SendAsync(get, SocketFlags.None, TestContext.Current.CancellationToken);
        byte[] received = await RawStore.ReadToEndAsync(stranger, TestContext.Current.CancellationToken);

        Assert.Equal(RawStore.GreetingBytes + 1, received.Length);
        Assert.Equal(RawStore.Rejected, received[^1]);
        AuthenticationException e = Assert.Throws<AuthenticationException>(() => StartClient(server.Port, OtherSecret));
        Assert.Contains(Address(server.Port), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NobodyButItsWriter_CanReplaceTheId()
    {
        using TcpStore server = StartServer();
        byte[] id = RandomNumberGenerator.GetBytes(128);
        server.Set("nccl/id", id);
        using TcpStore other = StartClient(server.Port);

        Assert.Throws<AuthenticationException>(() => StartClient(server.Port, OtherSecret));
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => other.Set("nccl/id", new byte[128]));

        Assert.Contains("another connection", e.Message, StringComparison.Ordinal);
        Assert.Equal(id, other.Get("nccl/id"));
    }

    [Fact]
    public void ForgedMessage_IsRejected_AndNotApplied()
    {
        using TcpStore server = StartServer();
        (RecordingStream stream, TcpStoreChannel channel) = RawStore.ConnectAuthenticated(server.Port, Secret);
        using (stream)
        using (channel)
        {
            // An acknowledgement whose authentication tag is not the channel's: what a stranger injecting one would send.
            byte[] payload = SetRequest("ack/1", [1]);
            byte[] forged = new byte[4 + payload.Length + TcpStoreChannel.MacBytes];
            BinaryPrimitives.WriteInt32LittleEndian(forged, payload.Length);
            payload.CopyTo(forged, 4);
            RandomNumberGenerator.Fill(forged.AsSpan(4 + payload.Length));
            stream.Write(forged);

            Assert.True(RawStore.ServerClosed(channel));
        }

        Assert.False(server.TryGet("ack/1", out _));
    }

    [Fact]
    public void ReplayedMessage_IsRejected_AndNotApplied()
    {
        using TcpStore server = StartServer();
        (RecordingStream stream, TcpStoreChannel channel) = RawStore.ConnectAuthenticated(server.Port, Secret);
        using (stream)
        using (channel)
        {
            channel.Send(AddRequest("acks", 1));
            Assert.NotNull(channel.Receive(1 << 20));
            byte[] recorded = stream.Writes[^1];

            stream.Write(recorded);

            Assert.True(RawStore.ServerClosed(channel));
        }

        Assert.Equal(1, server.Add("acks", 0));
    }

    [Fact]
    public void MessageReplayedOnAnotherConnection_IsRejected_AndNotApplied()
    {
        using TcpStore server = StartServer();
        byte[] recorded;
        (RecordingStream first, TcpStoreChannel firstChannel) = RawStore.ConnectAuthenticated(server.Port, Secret);
        using (first)
        using (firstChannel)
        {
            firstChannel.Send(AddRequest("acks", 1));
            Assert.NotNull(firstChannel.Receive(1 << 20));
            recorded = first.Writes[^1];
        }

        (RecordingStream second, TcpStoreChannel secondChannel) = RawStore.ConnectAuthenticated(server.Port, Secret);
        using (second)
        using (secondChannel)
        {
            second.Write(recorded);

            Assert.True(RawStore.ServerClosed(secondChannel));
        }

        Assert.Equal(1, server.Add("acks", 0));
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task ForgedAcknowledgement_DoesNotReleaseRankZero()
    {
        int port = LoopbackPorts.Free();
        byte[] id = RandomNumberGenerator.GetBytes(128);
        Task<byte[]> rank0 = Task.Run(() => NcclCommunicator.ExchangeUniqueId(Environment(0, port), () => id, TimeSpan.FromSeconds(50)), TestContext.Current.CancellationToken);

        // A stranger without the secret tries to acknowledge for rank 1, as in the audit; it cannot even connect.
        AuthenticationException e = Assert.Throws<AuthenticationException>(() =>
            TcpStore.Start(Loopback, port, isServer: false, s_timeout, new TcpStoreOptions { Secret = OtherSecret }));
        Assert.Contains(Address(port), e.Message, StringComparison.Ordinal);
        Assert.False(rank0.IsCompleted);

        byte[] rank1 = NcclCommunicator.ExchangeUniqueId(Environment(1, port), () => throw new InvalidOperationException("Only rank 0 creates the id."), s_timeout);

        Assert.Equal(id, rank1);
        Assert.Equal(id, await rank0.WaitAsync(s_timeout, TestContext.Current.CancellationToken));

        static DistributedEnvironment Environment(int rank, int port) => DistributedEnvironment.Parse(new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["OMPI_COMM_WORLD_RANK"] = rank.ToString(CultureInfo.InvariantCulture),
            ["OMPI_COMM_WORLD_SIZE"] = "2",
            ["MASTER_ADDR"] = Loopback,
            ["MASTER_PORT"] = port.ToString(CultureInfo.InvariantCulture),
            [TcpStoreOptions.SecretVariable] = Secret,
        });
    }

    [Fact]
    public void ServerWithAnotherSecret_IsRejectedByTheClient()
    {
        using TcpStore server = StartServer(new TcpStoreOptions { Secret = OtherSecret });

        AuthenticationException e = Assert.Throws<AuthenticationException>(() => StartClient(server.Port));

        Assert.Contains(Address(server.Port), e.Message, StringComparison.Ordinal);
        Assert.Contains(TcpStoreOptions.SecretVariable, e.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task SquatterThatCannotProveTheSecret_IsRejectedByTheClient()
    {
        // It speaks the handshake and accepts any client, but cannot compute the server's proof.
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        int port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        Task impostor = Task.Run(
            async () =>
            {
                using Socket peer = await squatter.AcceptSocketAsync(TestContext.Current.CancellationToken).ConfigureAwait(false);
                byte[] greeting = new byte[RawStore.GreetingBytes];
                "AXS1"u8.CopyTo(greeting);
                BinaryPrimitives.WriteInt32LittleEndian(greeting.AsSpan(RawStore.GreetingBytes - 8), 1024);
                BinaryPrimitives.WriteInt32LittleEndian(greeting.AsSpan(RawStore.GreetingBytes - 4), 1024);
                await peer.SendAsync(greeting, SocketFlags.None, TestContext.Current.CancellationToken).ConfigureAwait(false);
                byte[] answer = new byte[TcpStoreChannel.NonceBytes + TcpStoreChannel.MacBytes];
                await peer.ReceiveAsync(answer, SocketFlags.None, TestContext.Current.CancellationToken).ConfigureAwait(false);
                byte[] verdict = RandomNumberGenerator.GetBytes(1 + TcpStoreChannel.MacBytes);
                verdict[0] = 0;
                await peer.SendAsync(verdict, SocketFlags.None, TestContext.Current.CancellationToken).ConfigureAwait(false);
                await RawStore.ReadToEndAsync(peer, TestContext.Current.CancellationToken).ConfigureAwait(false);
            },
            TestContext.Current.CancellationToken);

        AuthenticationException e = Assert.Throws<AuthenticationException>(() => StartClient(port));

        Assert.Contains(Address(port), e.Message, StringComparison.Ordinal);
        Assert.Contains("does not prove", e.Message, StringComparison.Ordinal);
        await impostor.WaitAsync(s_timeout, TestContext.Current.CancellationToken);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task SquatterThatSpeaksAnotherProtocol_IsRejectedByTheClient()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        int port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        Task impostor = Task.Run(
            async () =>
            {
                using Socket peer = await squatter.AcceptSocketAsync(TestContext.Current.CancellationToken).ConfigureAwait(false);
                await peer.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad Request\r\n\r\n"), SocketFlags.None, TestContext.Current.CancellationToken).ConfigureAwait(false);
            },
            TestContext.Current.CancellationToken);

        AuthenticationException e = Assert.Throws<AuthenticationException>(() => StartClient(port));

        Assert.Contains(Address(port), e.Message, StringComparison.Ordinal);
        await impostor.WaitAsync(s_timeout, TestContext.Current.CancellationToken);
    }

    private static TcpStore StartServer(TcpStoreOptions? options = null) =>
        TcpStore.Start(Loopback, 0, isServer: true, s_timeout, options ?? new TcpStoreOptions { Secret = Secret });

    private static TcpStore StartClient(int port, string secret = Secret) =>
        TcpStore.Start(Loopback, port, isServer: false, s_timeout, new TcpStoreOptions { Secret = secret });

    private static async Task ReadGreetingAsync(Socket socket)
    {
        byte[] greeting = new byte[RawStore.GreetingBytes];
        int read = 0;
        while (read < greeting.Length)
        {
            int count = await socket.ReceiveAsync(greeting.AsMemory(read), SocketFlags.None, TestContext.Current.CancellationToken).AsTask().WaitAsync(RawStore.Generous, TestContext.Current.CancellationToken).ConfigureAwait(false);
            Assert.NotEqual(0, count);
            read += count;
        }
    }

    /// <summary>Connects once the server has noticed a closed connection and freed its place (it does so asynchronously).</summary>
    private static async Task<TcpStore> ConnectOnceAdmittedAsync(int port)
    {
        using var guard = new CancellationTokenSource(RawStore.Generous);
        while (true)
        {
            try
            {
                return StartClient(port);
            }
            catch (IOException) when (!guard.IsCancellationRequested)
            {
                await Task.Delay(50, TestContext.Current.CancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static byte[] SetRequest(string key, byte[] value) =>
        TcpStoreProtocol.RequestWithValue(TcpStoreProtocol.Set, TcpStoreProtocol.EncodeKey(key, 1024), value);

    private static byte[] AddRequest(string key, long delta) =>
        TcpStoreProtocol.Request(TcpStoreProtocol.Add, TcpStoreProtocol.EncodeKey(key, 1024), delta);

    private static string Address(int port) => string.Create(CultureInfo.InvariantCulture, $"{Loopback}:{port}");
}
