using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Artifex.Cuda.Distributed;

/// <summary>
/// The job secret and the limits of a <see cref="TcpStore"/>. The limits bind the server; a client learns the server's key
/// and value limits when it connects and refuses longer ones itself.
/// </summary>
public sealed class TcpStoreOptions
{
    /// <summary>
    /// The environment variable that holds the job secret: the same value on every rank, at least
    /// <see cref="MinSecretBytes"/> bytes in UTF-8, for example <c>export ARTIFEX_STORE_SECRET=$(openssl rand -hex 32)</c>.
    /// </summary>
    public const string SecretVariable = "ARTIFEX_STORE_SECRET";

    /// <summary>The shortest secret accepted, in UTF-8 bytes: a shorter one could be guessed from a recorded handshake.</summary>
    public const int MinSecretBytes = 16;

    /// <summary>The largest <see cref="MaxKeyBytes"/> a server may set, and a client accepts from a server.</summary>
    public const int KeyBytesCeiling = 64 * 1024;

    /// <summary>The largest <see cref="MaxValueBytes"/> a server may set, and a client accepts from a server.</summary>
    public const int ValueBytesCeiling = 64 * 1024 * 1024;

    /// <summary>
    /// Gets the job secret every participant shares: clients and server prove to each other that they know it, and every
    /// message is authenticated with a key derived from it. <see langword="null"/> refuses to start (the store never runs
    /// unauthenticated). Keep it out of logs and command lines.
    /// </summary>
    public string? Secret { get; init; }

    /// <summary>
    /// Gets how many connections the server holds at once, its own client and connections still authenticating included
    /// (default 1024); one more is refused with a message naming the limit.
    /// </summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>
    /// Gets how long the server waits for a client's next request, and for each request to arrive whole, before it drops
    /// the connection (default 5 minutes). A connection still authenticating has this long, at most 30 s, to finish. A
    /// request the server is answering (a <see cref="TcpStore.Get(string)"/> waiting for its key) is not idle.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets the longest key, in UTF-8 bytes (default 1 KiB, at most <see cref="KeyBytesCeiling"/>).</summary>
    public int MaxKeyBytes { get; init; } = 1024;

    /// <summary>Gets the longest value, in bytes (default 1 MiB, at most <see cref="ValueBytesCeiling"/>).</summary>
    public int MaxValueBytes { get; init; } = 1 << 20;

    /// <summary>Gets how many keys the server holds (default 65,536); a request that would add one more is refused.</summary>
    public int MaxKeys { get; init; } = 65_536;

    /// <summary>
    /// Gets how many bytes of keys and values the server holds in all (default 64 MiB); a request that would exceed it is
    /// refused.
    /// </summary>
    public long MaxStoredBytes { get; init; } = 64L << 20;

    /// <summary>Gets where the server reports the connections it refuses or drops, or <see langword="null"/> for nowhere.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Gets the defaults with <see cref="Secret"/> read from <see cref="SecretVariable"/> (an empty value counts as unset).</summary>
    /// <returns>The options.</returns>
    public static TcpStoreOptions FromEnvironment() =>
        new() { Secret = Environment.GetEnvironmentVariable(SecretVariable) is { Length: > 0 } secret ? secret : null };

    /// <summary>Checks <paramref name="options"/>; returns the secret's UTF-8 bytes.</summary>
    /// <param name="options">The options.</param>
    /// <param name="address">The store's <c>host:port</c>, for the messages.</param>
    /// <exception cref="ArgumentException">A limit is out of range, or the secret is too short.</exception>
    /// <exception cref="InvalidOperationException">There is no secret.</exception>
    internal static byte[] Validate(TcpStoreOptions options, string address)
    {
        ArgumentNullException.ThrowIfNull(options);
        string? outOfRange = OutOfRange(options.MaxConnections, 1, int.MaxValue, nameof(MaxConnections))
            ?? OutOfRange(options.MaxKeyBytes, 1, KeyBytesCeiling, nameof(MaxKeyBytes))
            ?? OutOfRange(options.MaxValueBytes, 0, ValueBytesCeiling, nameof(MaxValueBytes))
            ?? OutOfRange(options.MaxKeys, 1, int.MaxValue, nameof(MaxKeys))
            ?? OutOfRange(options.MaxStoredBytes, 1, long.MaxValue, nameof(MaxStoredBytes))
            ?? (options.IdleTimeout <= TimeSpan.Zero || options.IdleTimeout.TotalMilliseconds > int.MaxValue
                ? string.Create(CultureInfo.InvariantCulture, $"TcpStoreOptions.IdleTimeout is {options.IdleTimeout}; it must be positive and finite.")
                : null);
        if (outOfRange is not null)
        {
            throw new ArgumentException(outOfRange, nameof(options));
        }

        if (options.Secret is null)
        {
            throw new InvalidOperationException(
                $"The TcpStore at {address} needs the job secret and has none: set {SecretVariable} to the same random value on every rank "
                + $"(at least {MinSecretBytes} characters, for example $(openssl rand -hex 32)), or pass TcpStoreOptions.Secret. "
                + "Without it anyone who can reach the port could read or replace what the ranks exchange.");
        }

        byte[] secret = Encoding.UTF8.GetBytes(options.Secret);
        if (secret.Length < MinSecretBytes)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The TcpStore secret ({SecretVariable}) has {secret.Length} bytes; it needs at least {MinSecretBytes}, for example $(openssl rand -hex 32)."), nameof(options));
        }

        return secret;
    }

    private static string? OutOfRange(long value, long min, long max, string name) =>
        value < min || value > max
            ? string.Create(CultureInfo.InvariantCulture, $"TcpStoreOptions.{name} is {value}; it must be between {min} and {max}.")
            : null;
}
