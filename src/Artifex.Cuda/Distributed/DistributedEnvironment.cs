using System.Collections;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Artifex.Cuda.Distributed;

/// <summary>
/// Where this process sits in a multi-process job, as its launcher (torchrun, Open MPI, Slurm or PMI) describes it in
/// environment variables, and how the ranks will agree on NCCL's unique id.
/// </summary>
/// <remarks>
/// <para>
/// Rank, world size and local rank are read from the first launcher whose rank or size variable is set, in this order:
/// torchrun (<c>RANK</c>, <c>WORLD_SIZE</c>, <c>LOCAL_RANK</c>, <c>LOCAL_WORLD_SIZE</c>), Open MPI
/// (<c>OMPI_COMM_WORLD_RANK</c>, <c>OMPI_COMM_WORLD_SIZE</c>, <c>OMPI_COMM_WORLD_LOCAL_RANK</c>,
/// <c>OMPI_COMM_WORLD_LOCAL_SIZE</c>), Slurm (<c>SLURM_PROCID</c>, <c>SLURM_NTASKS</c>, <c>SLURM_LOCALID</c>, and
/// <c>SLURM_NTASKS_PER_NODE</c> when it is a plain integer) and PMI (<c>PMI_RANK</c>, <c>PMI_SIZE</c>). With none of them
/// the process is rank 0 of 1. An empty variable counts as unset.
/// </para>
/// <para>
/// The local rank defaults to 0 when the launcher does not give one. The local world size defaults to 1 when the world size
/// is 1 and otherwise to the world size, that is, all ranks are assumed to share one host.
/// </para>
/// <para>
/// The rendezvous is <see cref="RendezvousMode.NcclCommId"/> when <c>NCCL_COMM_ID</c> is set, else
/// <see cref="RendezvousMode.TcpStore"/> when both <c>MASTER_ADDR</c> and <c>MASTER_PORT</c> are set, else
/// <see cref="RendezvousMode.SingleProcess"/> for a world of one. Every inconsistency (a value that is not a non-negative
/// integer, a rank outside the world, half of a launcher's variables, a port outside 1..65535, several ranks without a
/// rendezvous) throws <see cref="InvalidOperationException"/> naming the variable and its value.
/// </para>
/// <para>
/// The store rendezvous of a job of several processes also needs <c>ARTIFEX_STORE_SECRET</c>, the same random value on every
/// rank (see <see cref="StoreSecret"/>); its absence is reported when the store starts, not here, since the other modes do
/// not need it.
/// </para>
/// </remarks>
public sealed class DistributedEnvironment
{
    private const string NcclCommIdVariable = "NCCL_COMM_ID";
    private const string MasterAddressVariable = "MASTER_ADDR";
    private const string MasterPortVariable = "MASTER_PORT";

    private static readonly LauncherVariables[] s_launchers =
    [
        new("torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", IgnoreNonIntegerLocalSize: false),
        new("openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE", IgnoreNonIntegerLocalSize: false),

        // Slurm writes SLURM_NTASKS_PER_NODE as "2(x3)" or "2,1" on uneven allocations; only a plain count is a local size.
        new("slurm", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE", IgnoreNonIntegerLocalSize: true),
        new("pmi", "PMI_RANK", "PMI_SIZE", LocalRank: null, LocalSize: null, IgnoreNonIntegerLocalSize: false),
    ];

    private DistributedEnvironment(Placement placement, Rendezvous rendezvous, string? storeSecret)
    {
        StoreSecret = storeSecret;
        Rank = placement.Rank;
        WorldSize = placement.WorldSize;
        LocalRank = placement.LocalRank;
        LocalWorldSize = placement.LocalWorldSize;
        Launcher = placement.Launcher;
        Mode = rendezvous.Mode;
        NcclCommId = rendezvous.NcclCommId;
        MasterAddress = rendezvous.MasterAddress;
        MasterPort = rendezvous.MasterPort;
    }

    /// <summary>Gets this process's rank among all processes of the job (0-based).</summary>
    public int Rank { get; }

    /// <summary>Gets the number of processes in the job.</summary>
    public int WorldSize { get; }

    /// <summary>Gets this process's rank among the processes of its host; it usually selects the GPU.</summary>
    public int LocalRank { get; }

    /// <summary>Gets the number of processes on this host.</summary>
    public int LocalWorldSize { get; }

    /// <summary>Gets <c>NCCL_COMM_ID</c> (<c>host:port</c> or <c>[ipv6]:port</c>), or <see langword="null"/> when unset.</summary>
    public string? NcclCommId { get; }

    /// <summary>Gets <c>MASTER_ADDR</c>, or <see langword="null"/> when unset.</summary>
    public string? MasterAddress { get; }

    /// <summary>Gets <c>MASTER_PORT</c>, or <see langword="null"/> when unset.</summary>
    public int? MasterPort { get; }

    /// <summary>
    /// Gets the job secret of the <see cref="TcpStore"/> rendezvous, <c>ARTIFEX_STORE_SECRET</c>
    /// (<see cref="TcpStoreOptions.SecretVariable"/>), or <see langword="null"/> when unset. <see cref="ToString"/> never shows it.
    /// </summary>
    public string? StoreSecret { get; }

    /// <summary>Gets the launcher the ranks were read from: "torchrun", "openmpi", "slurm", "pmi" or "none".</summary>
    public string Launcher { get; }

    /// <summary>Gets how the ranks will agree on NCCL's unique id.</summary>
    public RendezvousMode Mode { get; }

    /// <summary>Gets a value indicating whether the job has more than one process.</summary>
    public bool IsMultiProcess => WorldSize > 1;

    /// <summary>
    /// Gets <c>MASTER_ADDR:(MASTER_PORT+1)</c> when <see cref="Mode"/> is <see cref="RendezvousMode.TcpStore"/>: an
    /// <c>NCCL_COMM_ID</c> a launcher can export to use NCCL's own bootstrap instead of the store, on the port next to the
    /// store's. <see langword="null"/> in the other modes, or when <c>MASTER_PORT</c> is 65535 (there is no next port).
    /// An IPv6 address is bracketed.
    /// </summary>
    public string? DerivedNcclCommId =>
        Mode == RendezvousMode.TcpStore && MasterPort < 65535
            ? FormatEndpoint(MasterAddress!, MasterPort.Value + 1)
            : null;

    /// <summary>Reads the current process's environment variables.</summary>
    /// <returns>The parsed environment.</returns>
    /// <exception cref="InvalidOperationException">The variables are inconsistent (see the remarks of the class).</exception>
    public static DistributedEnvironment FromEnvironment()
    {
        // Windows treats variable names case-insensitively; everywhere else RANK and rank are different variables.
        StringComparer comparer = OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
        var variables = new Dictionary<string, string?>(comparer);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            variables[(string)entry.Key] = entry.Value as string;
        }

        return Parse(variables);
    }

    /// <summary>Parses a set of environment variables (the testable core of <see cref="FromEnvironment"/>).</summary>
    /// <param name="variables">The variables by name; missing, <see langword="null"/> and empty values count as unset.</param>
    /// <returns>The parsed environment.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="variables"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The variables are inconsistent (see the remarks of the class).</exception>
    public static DistributedEnvironment Parse(IReadOnlyDictionary<string, string?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        Placement placement = ReadPlacement(variables);
        Rendezvous rendezvous = ReadRendezvous(variables, placement);
        return new DistributedEnvironment(placement, rendezvous, Get(variables, TcpStoreOptions.SecretVariable));
    }

    /// <summary>Describes the process, for example <c>rank 1 of 4 (local 1 of 2) via torchrun, rendezvous TcpStore at host:29500</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString()
    {
        string at = Mode switch
        {
            RendezvousMode.NcclCommId => " at " + NcclCommId,
            RendezvousMode.TcpStore => " at " + FormatEndpoint(MasterAddress!, MasterPort!.Value),
            _ => string.Empty,
        };
        return string.Create(CultureInfo.InvariantCulture, $"rank {Rank} of {WorldSize} (local {LocalRank} of {LocalWorldSize}) via {Launcher}, rendezvous {Mode}{at}");
    }

    private static Placement ReadPlacement(IReadOnlyDictionary<string, string?> variables)
    {
        foreach (LauncherVariables launcher in s_launchers)
        {
            string? rankText = Get(variables, launcher.Rank);
            string? sizeText = Get(variables, launcher.Size);
            if (rankText is null && sizeText is null)
            {
                continue;
            }

            if (rankText is null || sizeText is null)
            {
                (string present, string missing) = rankText is null ? (launcher.Size, launcher.Rank) : (launcher.Rank, launcher.Size);
                throw new InvalidOperationException($"{present}={Get(variables, present)} is set but {missing} is not: the {launcher.Name} launcher sets both.");
            }

            return ReadPlacement(variables, launcher, rankText, sizeText);
        }

        return new Placement("none", Rank: 0, WorldSize: 1, LocalRank: 0, LocalWorldSize: 1);
    }

    private static Placement ReadPlacement(IReadOnlyDictionary<string, string?> variables, LauncherVariables launcher, string rankText, string sizeText)
    {
        int worldSize = ParseCount(launcher.Size, sizeText);
        int rank = ParseIndex(launcher.Rank, rankText);
        if (rank >= worldSize)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{launcher.Rank}={rank} is not less than {launcher.Size}={worldSize}."));
        }

        string? localRankText = launcher.LocalRank is null ? null : Get(variables, launcher.LocalRank);
        int localRank = localRankText is null ? 0 : ParseIndex(launcher.LocalRank!, localRankText);

        string? localSizeText = launcher.LocalSize is null ? null : Get(variables, launcher.LocalSize);
        if (localSizeText is not null && launcher.IgnoreNonIntegerLocalSize && !IsPlainInteger(localSizeText))
        {
            localSizeText = null;
        }

        int localSize = localSizeText is null ? worldSize : ParseCount(launcher.LocalSize!, localSizeText);
        if (localSize > worldSize)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{launcher.LocalSize}={localSize} is greater than {launcher.Size}={worldSize}."));
        }

        if (localRank >= localSize)
        {
            string sizeSource = localSizeText is null
                ? string.Create(CultureInfo.InvariantCulture, $"the local world size {localSize} (defaulted from {launcher.Size}={worldSize})")
                : string.Create(CultureInfo.InvariantCulture, $"{launcher.LocalSize}={localSize}");
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"{launcher.LocalRank}={localRank} is not less than {sizeSource}."));
        }

        return new Placement(launcher.Name, rank, worldSize, localRank, localSize);
    }

    private static Rendezvous ReadRendezvous(IReadOnlyDictionary<string, string?> variables, Placement placement)
    {
        string? commId = Get(variables, NcclCommIdVariable);
        if (commId is not null)
        {
            ValidateNcclCommId(commId);
        }

        string? address = Get(variables, MasterAddressVariable);
        string? portText = Get(variables, MasterPortVariable);
        int? port = portText is null ? null : ParsePort(MasterPortVariable, portText);

        if (commId is not null)
        {
            return new Rendezvous(RendezvousMode.NcclCommId, commId, address, port);
        }

        if (address is not null && port is not null)
        {
            return new Rendezvous(RendezvousMode.TcpStore, NcclCommId: null, address, port);
        }

        if (placement.WorldSize == 1)
        {
            return new Rendezvous(RendezvousMode.SingleProcess, NcclCommId: null, address, port);
        }

        string found = (address, portText) switch
        {
            (null, null) => "neither is set",
            (null, _) => $"{MasterPortVariable}={portText} is set but {MasterAddressVariable} is not",
            _ => $"{MasterAddressVariable}={address} is set but {MasterPortVariable} is not",
        };
        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"The {placement.Launcher} launcher started {placement.WorldSize} processes, but there is no rendezvous for NCCL: set {NcclCommIdVariable} (host:port, the same on every rank) or both {MasterAddressVariable} and {MasterPortVariable} ({found})."));
    }

    private static void ValidateNcclCommId(string value)
    {
        // NCCL accepts <ipv4>:<port>, [<ipv6>]:<port> or <host>:<port>; a bare IPv6 address has no unambiguous port.
        int colon = value.LastIndexOf(':');
        string host = colon < 0 ? string.Empty : value[..colon];
        bool validHost = host.StartsWith('[')
            ? host.Length > 2 && host.EndsWith(']') && IPAddress.TryParse(host[1..^1], out IPAddress? ip) && ip.AddressFamily == AddressFamily.InterNetworkV6
            : host.Length > 0 && !host.Contains(':', StringComparison.Ordinal) && !host.Contains(']', StringComparison.Ordinal);
        if (!validHost)
        {
            throw new InvalidOperationException($"{NcclCommIdVariable}='{value}' is not of the form host:port or [ipv6]:port.");
        }

        ParsePort(NcclCommIdVariable, value[(colon + 1)..], value);
    }

    private static int ParsePort(string name, string text, string? wholeValue = null)
    {
        if (!IsPlainInteger(text) || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            throw new InvalidOperationException($"{name}='{wholeValue ?? text}' does not hold a port between 1 and 65535.");
        }

        return port;
    }

    private static int ParseIndex(string name, string text)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
        {
            throw new InvalidOperationException($"{name}='{text}' is not a non-negative integer.");
        }

        return value;
    }

    private static int ParseCount(string name, string text)
    {
        int value = ParseIndex(name, text);
        if (value < 1)
        {
            throw new InvalidOperationException($"{name}={text} must be at least 1.");
        }

        return value;
    }

    private static bool IsPlainInteger(string text) => text.Length > 0 && text.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0;

    private static string? Get(IReadOnlyDictionary<string, string?> variables, string name) =>
        variables.TryGetValue(name, out string? value) && !string.IsNullOrEmpty(value) ? value : null;

    private static string FormatEndpoint(string host, int port) =>
        host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[')
            ? string.Create(CultureInfo.InvariantCulture, $"[{host}]:{port}")
            : string.Create(CultureInfo.InvariantCulture, $"{host}:{port}");

    private sealed record LauncherVariables(string Name, string Rank, string Size, string? LocalRank, string? LocalSize, bool IgnoreNonIntegerLocalSize);

    private sealed record Placement(string Launcher, int Rank, int WorldSize, int LocalRank, int LocalWorldSize);

    private sealed record Rendezvous(RendezvousMode Mode, string? NcclCommId, string? MasterAddress, int? MasterPort);
}
