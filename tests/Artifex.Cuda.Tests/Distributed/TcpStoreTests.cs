using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Artifex.Cuda.Distributed;

namespace Artifex.Cuda.Tests.Distributed;

/// <summary>Loopback tests of <see cref="TcpStore"/>; every server takes an ephemeral port, so runs never collide.</summary>
public sealed class TcpStoreTests
{
    private const string Loopback = "127.0.0.1";
    private const string Secret = "tcp-store-tests-0123456789";
    private const int TestTimeoutMs = 120_000;

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    [Fact(Timeout = TestTimeoutMs)]
    public async Task SetAndGet_AcrossClientsOnThreads()
    {
        using TcpStore server = StartServer();
        const int Clients = 4;
        Task[] tasks = [.. Enumerable.Range(0, Clients).Select(i => Task.Run(() =>
        {
            using TcpStore client = StartClient(server.Port);
            client.Set(Key(i), Encoding.UTF8.GetBytes($"value {i}"));
            for (int j = 0; j < Clients; j++)
            {
                Assert.Equal($"value {j}", Encoding.UTF8.GetString(client.Get(Key(j))));
            }
        }, TestContext.Current.CancellationToken))];

        await Task.WhenAll(tasks);
        Assert.Equal("value 3", Encoding.UTF8.GetString(server.Get(Key(3))));

        static string Key(int i) => string.Create(CultureInfo.InvariantCulture, $"rank/{i}");
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task Get_BlocksUntilALaterSet()
    {
        using TcpStore server = StartServer();
        using TcpStore client = StartClient(server.Port);

        Task<byte[]> get = Task.Run(() => client.Get("late"), TestContext.Current.CancellationToken);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.False(get.IsCompleted);

        server.Set("late", [1, 2, 3]);

        Assert.Equal([1, 2, 3], await get.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken));
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task Get_AfterTimeout_Throws_NamingKeyAddressAndTimeout()
    {
        using TcpStore server = Start(Loopback, 0, isServer: true, TimeSpan.FromMilliseconds(300));
        var watch = Stopwatch.StartNew();

        TimeoutException e = await Assert.ThrowsAsync<TimeoutException>(() => Task.Run(() => server.Get("never/set"), TestContext.Current.CancellationToken));

        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(250), $"Gave up after {watch.Elapsed.TotalMilliseconds:F0} ms, before its 300 ms timeout.");
        Assert.Contains("'never/set'", e.Message, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{Loopback}:{server.Port}"), e.Message, StringComparison.Ordinal);
        Assert.Contains("0.3 s", e.Message, StringComparison.Ordinal);

        // A timed-out read leaves the connection usable.
        server.Set("after", [9]);
        Assert.Equal([9], server.Get("after"));
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task Client_StartedBeforeServer_ConnectsOnceServerStarts()
    {
        int port = LoopbackPorts.Free();
        Task<TcpStore> connecting = Task.Run(() => StartClient(port), TestContext.Current.CancellationToken);
        await Task.Delay(400, TestContext.Current.CancellationToken);
        Assert.False(connecting.IsCompleted);

        using TcpStore server = Start(Loopback, port, isServer: true, s_timeout);
        using TcpStore client = await connecting.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        server.Set("id", [42]);
        Assert.Equal([42], client.Get("id"));
        Assert.Equal(port, client.Port);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task Client_WithoutServer_TimesOut_NamingHostAndPort()
    {
        int port = LoopbackPorts.Free();
        var watch = Stopwatch.StartNew();

        TimeoutException e = await Assert.ThrowsAsync<TimeoutException>(() => Task.Run(() => Start(Loopback, port, isServer: false, TimeSpan.FromMilliseconds(400)), TestContext.Current.CancellationToken));

        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(350), $"Gave up after {watch.Elapsed.TotalMilliseconds:F0} ms, before its 400 ms timeout.");
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{Loopback}:{port}"), e.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task Add_IsAtomicUnderConcurrency()
    {
        using TcpStore server = StartServer();
        const int Clients = 4;
        const int Increments = 100;
        Task<long[]>[] tasks = [.. Enumerable.Range(0, Clients).Select(_ => Task.Run(() =>
        {
            using TcpStore client = StartClient(server.Port);
            return Enumerable.Range(0, Increments).Select(_ => client.Add("counter", 1)).ToArray();
        }, TestContext.Current.CancellationToken))];

        long[][] seen = await Task.WhenAll(tasks);

        Assert.Equal(Clients * Increments, server.Add("counter", 0));
        Assert.Equal(Enumerable.Range(1, Clients * Increments).Select(i => (long)i), seen.SelectMany(s => s).Order());
        Assert.Equal("400", Encoding.ASCII.GetString(server.Get("counter")));
        Assert.Equal(390, server.Add("counter", -10));
    }

    [Fact]
    public void Add_OnAValueThatIsNotACounter_Throws_AndTheConnectionSurvives()
    {
        using TcpStore server = StartServer();
        server.Set("text", "abc"u8);

        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => server.Add("text", 1));

        Assert.Contains("'text'", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.Add("other", 1));
    }

    [Fact]
    public void BinaryValues_RoundTrip()
    {
        using TcpStore server = StartServer();
        using TcpStore client = StartClient(server.Port);
        byte[] id = new byte[128];
        new Random(7).NextBytes(id);
        id[0] = 0;
        id[127] = 0;

        server.Set("nccl/id", id);
        server.Set("empty", []);

        Assert.Equal(id, client.Get("nccl/id"));
        Assert.Empty(client.Get("empty"));
    }

    [Fact]
    public void Set_OverwritesTheValue()
    {
        using TcpStore server = StartServer();
        server.Set("k", [1]);
        server.Set("k", [2, 2]);

        Assert.Equal([2, 2], server.Get("k"));
    }

    [Fact]
    public void TryGet_DoesNotWait()
    {
        using TcpStore server = StartServer();

        Assert.False(server.TryGet("k", out byte[]? missing));
        Assert.Null(missing);
        server.Set("k", [5]);
        Assert.True(server.TryGet("k", out byte[]? found));
        Assert.Equal([5], found);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task Wait_ReturnsOnceEveryKeyIsSet()
    {
        using TcpStore server = StartServer();
        using TcpStore client = StartClient(server.Port);
        server.Set("a", [1]);

        Task wait = Task.Run(() => client.Wait(["a", "b", "c"]), TestContext.Current.CancellationToken);
        server.Set("c", [3]);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.False(wait.IsCompleted);
        server.Set("b", [2]);

        await wait.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Wait_AfterTimeout_Throws_NamingTheMissingKey()
    {
        using TcpStore server = Start(Loopback, 0, isServer: true, TimeSpan.FromMilliseconds(300));
        server.Set("present", [1]);

        TimeoutException e = Assert.Throws<TimeoutException>(() => server.Wait(["present", "absent"]));

        Assert.Contains("'absent'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OversizeKeyOrValue_IsRejected_AndTheStoreKeepsWorking()
    {
        using TcpStore server = StartServer();
        string longest = new('k', 1024);
        byte[] largest = new byte[1 << 20];
        largest[^1] = 7;

        ArgumentException key = Assert.Throws<ArgumentException>(() => server.Set(new string('k', 1025), [1]));
        ArgumentException multiByte = Assert.Throws<ArgumentException>(() => server.Get(new string('é', 513)));
        ArgumentException value = Assert.Throws<ArgumentException>(() => server.Set("v", new byte[(1 << 20) + 1]));
        Assert.Throws<ArgumentException>(() => server.Add(string.Empty, 1));

        Assert.Equal("key", key.ParamName);
        Assert.Equal("key", multiByte.ParamName);
        Assert.Equal("value", value.ParamName);
        server.Set(longest, largest);
        Assert.Equal(largest, server.Get(longest));
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task ServerDispose_ReleasesAGetBlockedOnAnotherClient()
    {
        TcpStore server = StartServer();
        using TcpStore client = StartClient(server.Port);
        Task<byte[]> get = Task.Run(() => client.Get("never"), TestContext.Current.CancellationToken);
        await Task.Delay(200, TestContext.Current.CancellationToken);

        server.Dispose();

        IOException e = await Assert.ThrowsAsync<IOException>(() => get.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken));
        Assert.Contains("'never'", e.Message, StringComparison.Ordinal);
        Assert.Throws<IOException>(() => client.Set("k", [1]));
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task Dispose_ReleasesItsOwnBlockedGet()
    {
        using TcpStore server = StartServer();
        TcpStore client = StartClient(server.Port);
        Task<byte[]> get = Task.Run(() => client.Get("never"), TestContext.Current.CancellationToken);
        await Task.Delay(200, TestContext.Current.CancellationToken);

        client.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => get.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken));
        Assert.Throws<ObjectDisposedException>(() => client.Get("k"));
        server.Set("still", [1]);
        Assert.Equal([1], server.Get("still"));
    }

    [Theory(Timeout = TestTimeoutMs)]
    [InlineData(new byte[] { 0x7F, 1, 0, 0, 0, (byte)'k' })]
    [InlineData(new byte[] { 1, 0xFF, 0xFF, 0xFF, 0x7F })]
    [InlineData(new byte[] { 2, 0, 0, 0, 0 })]
    [InlineData(new byte[] { 2, 2, 0, 0, 0, 0xC3, 0x28 })]
    [InlineData(new byte[] { 1, 1, 0, 0, 0, (byte)'k', 0xFF, 0xFF, 0xFF, 0xFF })]
    public async Task MalformedConnection_IsRejectedAndDropped_AndOthersKeepBeingServed(byte[] junk)
    {
        using TcpStore server = StartServer();
        using TcpStore client = StartClient(server.Port);
        client.Set("before", [1]);

        // The junk, padded to the size of a handshake answer, stands where the proof of the secret should be.
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await raw.ConnectAsync(IPAddress.Loopback, server.Port, TestContext.Current.CancellationToken);
        byte[] answer = new byte[64];
        junk.CopyTo(answer, 0);
        await raw.SendAsync(answer, SocketFlags.None, TestContext.Current.CancellationToken);
        byte[] received = await RawStore.ReadToEndAsync(raw, TestContext.Current.CancellationToken);

        Assert.Equal(RawStore.GreetingBytes + 1, received.Length);
        Assert.Equal(RawStore.Rejected, received[^1]);
        Assert.Equal([1], client.Get("before"));
        client.Set("after", [2]);
        Assert.Equal([2], server.Get("after"));
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("LOCALHOST")]
    [InlineData("127.0.0.1")]
    public void LoopbackName_ServerListensOnLoopbackOnly_AndClientsReachItByName(string host)
    {
        using TcpStore server = Start(host, 0, isServer: true, s_timeout);
        using TcpStore client = Start(host, server.Port, isServer: false, s_timeout);

        client.Set("k", [1]);

        Assert.Equal([1], server.Get("k"));
        Assert.True(IPAddress.IsLoopback(server.ListenEndPoint!.Address), $"The server listens on {server.ListenEndPoint}.");
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{host}:{server.Port}"), server.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Start_RejectsInvalidArguments()
    {
        Assert.Throws<ArgumentException>(() => Start(" ", 1, isServer: false, s_timeout));
        Assert.Throws<ArgumentOutOfRangeException>(() => Start(Loopback, 0, isServer: false, s_timeout));
        Assert.Throws<ArgumentOutOfRangeException>(() => Start(Loopback, -1, isServer: true, s_timeout));
        Assert.Throws<ArgumentOutOfRangeException>(() => Start(Loopback, 65536, isServer: true, s_timeout));
        Assert.Throws<ArgumentOutOfRangeException>(() => Start(Loopback, 0, isServer: true, TimeSpan.Zero));
        Assert.Throws<ArgumentNullException>(() => TcpStore.Start(Loopback, 0, isServer: true, s_timeout, null!));
    }

    [Theory]
    [InlineData(0, 1024, 1, "MaxConnections")]
    [InlineData(8, 0, 1, "MaxKeyBytes")]
    [InlineData(8, 65537, 1, "MaxKeyBytes")]
    [InlineData(8, 1024, 0, "MaxKeys")]
    public void Start_RejectsLimitsOutOfRange_NamingTheLimit(int maxConnections, int maxKeyBytes, int maxKeys, string name)
    {
        var options = new TcpStoreOptions { Secret = Secret, MaxConnections = maxConnections, MaxKeyBytes = maxKeyBytes, MaxKeys = maxKeys };

        ArgumentException e = Assert.Throws<ArgumentException>(() => TcpStore.Start(Loopback, 0, isServer: true, s_timeout, options));

        Assert.Equal("options", e.ParamName);
        Assert.Contains(name, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_WithoutASecret_FailsClosed_NamingTheVariable()
    {
        InvalidOperationException server = Assert.Throws<InvalidOperationException>(() => TcpStore.Start(Loopback, 0, isServer: true, s_timeout, new TcpStoreOptions()));
        InvalidOperationException client = Assert.Throws<InvalidOperationException>(() => TcpStore.Start(Loopback, 1, isServer: false, s_timeout, new TcpStoreOptions()));
        ArgumentException shortSecret = Assert.Throws<ArgumentException>(() => TcpStore.Start(Loopback, 0, isServer: true, s_timeout, new TcpStoreOptions { Secret = "too short" }));

        Assert.Contains(TcpStoreOptions.SecretVariable, server.Message, StringComparison.Ordinal);
        Assert.Contains(TcpStoreOptions.SecretVariable, client.Message, StringComparison.Ordinal);
        Assert.Contains("16", shortSecret.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_OnATakenPort_Throws_NamingTheAddressAndPort()
    {
        using TcpStore first = StartServer();

        SocketException e = Assert.Throws<SocketException>(() => Start(Loopback, first.Port, isServer: true, s_timeout));

        Assert.Equal(SocketError.AddressAlreadyInUse, e.SocketErrorCode);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{Loopback}:{first.Port}"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Server_RestartsOnTheSamePort_WhileOldConnectionsLinger()
    {
        TcpStore first = StartServer();
        int port = first.Port;
        using TcpStore client = StartClient(port);
        client.Set("k", [1]);

        // The server closes first, so its end of the client's connection lingers (FIN_WAIT/TIME_WAIT) on the port.
        first.Dispose();
        using TcpStore second = Start(Loopback, port, isServer: true, s_timeout);

        Assert.False(second.TryGet("k", out _));
    }

    private static TcpStore StartServer() => Start(Loopback, 0, isServer: true, s_timeout);

    private static TcpStore StartClient(int port) => Start(Loopback, port, isServer: false, s_timeout);

    private static TcpStore Start(string host, int port, bool isServer, TimeSpan timeout) =>
        TcpStore.Start(host, port, isServer, timeout, new TcpStoreOptions { Secret = Secret });
}
