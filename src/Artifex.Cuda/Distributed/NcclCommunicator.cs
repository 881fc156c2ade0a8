using System.Globalization;
using Artifex.Cuda.Native;
using Artifex.Cuda.Runtime;
using Artifex.Runtime;
using Microsoft.Extensions.Logging;

namespace Artifex.Cuda.Distributed;

/// <summary>
/// An NCCL communicator across processes (and hosts): one rank per process, each driving one GPU. NCCL moves the bytes
/// (NVLink, shared memory, InfiniBand or sockets); Artifex only helps the ranks agree on NCCL's unique id.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="FromEnvironment(CudaProvider, Device, DistributedEnvironment?, TimeSpan?)"/> reads the launcher's variables
/// (torchrun, Open MPI, Slurm, PMI; see <see cref="DistributedEnvironment"/>). With <c>NCCL_COMM_ID</c> every rank computes the
/// same id locally and NCCL's own bootstrap does the rest; with <c>MASTER_ADDR</c>/<c>MASTER_PORT</c> rank 0 publishes the
/// id in a <see cref="TcpStore"/> the others read (at <c>MASTER_PORT + 1</c> under torchrun, whose agent store holds
/// <c>MASTER_PORT</c>); every rank must then have the same job secret in <c>ARTIFEX_STORE_SECRET</c>, which authenticates the
/// ranks to the store and the store to the ranks (see <see cref="TcpStore"/> for what it protects). Mesh sub-axes (data-parallel and model-parallel groups) come from
/// <see cref="Split(int, int)"/>, which needs no further rendezvous.
/// </para>
/// <para>Collectives are queued on the GPU's stream; reading a result back with the provider's copies waits for them.</para>
/// </remarks>
public sealed unsafe class NcclCommunicator : IDisposable
{
    private const string IdKeyPrefix = "artifex/nccl-unique-id/";

    private readonly CudaProvider _provider;
    private readonly CudaDeviceState _state;
    private readonly CudaResourceHandle _handle;

    private NcclCommunicator(CudaProvider provider, Device device, CudaResourceHandle handle)
    {
        _provider = provider;
        Device = device;
        _state = provider.GetState(device);
        _handle = handle;
        int rank, size;
        CudaCheck.Nccl(Nccl.ncclCommUserRank(handle.Value, &rank), "ncclCommUserRank", handle.Value);
        CudaCheck.Nccl(Nccl.ncclCommCount(handle.Value, &size), "ncclCommCount", handle.Value);
        Rank = rank;
        Size = size;
    }

    /// <summary>Gets this process's rank in the communicator.</summary>
    public int Rank { get; }

    /// <summary>Gets the number of ranks.</summary>
    public int Size { get; }

    /// <summary>Gets the GPU this rank drives.</summary>
    public Device Device { get; }

    /// <summary>Builds the world communicator from the launcher's environment.</summary>
    /// <param name="provider">The CUDA provider of this process.</param>
    /// <param name="device">The GPU of this rank (usually the one at <c>LOCAL_RANK</c>).</param>
    /// <param name="environment">The parsed environment; <see langword="null"/> reads the process's.</param>
    /// <param name="timeout">How long to wait for the other ranks at the store (default 5 minutes).</param>
    /// <returns>The communicator; the caller disposes it.</returns>
    /// <exception cref="InvalidOperationException">
    /// The environment is inconsistent (see <see cref="DistributedEnvironment"/>), or the store rendezvous has no
    /// <c>ARTIFEX_STORE_SECRET</c>.
    /// </exception>
    /// <exception cref="TimeoutException">Rank 0 never published the id.</exception>
    /// <exception cref="System.Security.Authentication.AuthenticationException">
    /// The store at <c>MASTER_ADDR</c> could not prove it knows the job secret, or refused this rank's proof.
    /// </exception>
    /// <exception cref="NcclException">NCCL failed to build the communicator.</exception>
    public static NcclCommunicator FromEnvironment(CudaProvider provider, Device device, DistributedEnvironment? environment = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(device);
        if (!ReferenceEquals(device.Provider, provider))
        {
            throw new ArgumentException($"Device {device} does not belong to this CUDA provider.", nameof(device));
        }

        environment ??= DistributedEnvironment.FromEnvironment();
        RequireNccl();
        NcclUniqueId id = environment.Mode == RendezvousMode.TcpStore
            ? ExchangeThroughStore(environment, timeout ?? TimeSpan.FromMinutes(5), provider.ProviderLogger)
            : LocalUniqueId();
        return Create(provider, device, environment.WorldSize, environment.Rank, id);
    }

    /// <summary>Builds a communicator of one rank on one GPU (a single process; tests and tools).</summary>
    /// <param name="provider">The CUDA provider.</param>
    /// <param name="device">The GPU.</param>
    /// <returns>The communicator.</returns>
    public static NcclCommunicator CreateSingle(CudaProvider provider, Device device)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(device);
        RequireNccl();
        return Create(provider, device, 1, 0, LocalUniqueId());
    }

    /// <summary>Splits the communicator (<c>ncclCommSplit</c>): ranks with the same <paramref name="color"/> form one sub-communicator, ordered by <paramref name="key"/>. Every rank must call it.</summary>
    /// <param name="color">The group; a negative value leaves this rank out (the result is then <see langword="null"/>).</param>
    /// <param name="key">The order inside the group (usually the position along the mesh axis).</param>
    /// <returns>The sub-communicator, or <see langword="null"/> for a negative color.</returns>
    public NcclCommunicator? Split(int color, int key)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        _state.MakeCurrent();
        nint child;
        CudaCheck.Nccl(Nccl.ncclCommSplit(_handle.Value, color < 0 ? Nccl.SplitNoColor : color, key, &child, null), "ncclCommSplit", _handle.Value);
        return child == 0 ? null : new NcclCommunicator(_provider, Device, new CudaResourceHandle(CudaResourceKind.NcclCommunicator, child, _state.Context));
    }

    /// <summary>All-reduces <paramref name="input"/> into <paramref name="output"/> (may be the same buffer) over every rank; a mean is a sum divided once by <see cref="Size"/>.</summary>
    /// <param name="input">This rank's values on <see cref="Device"/>.</param>
    /// <param name="output">The result, same type and length.</param>
    /// <param name="op">The reduction.</param>
    public void AllReduce(DeviceBuffer input, DeviceBuffer output, ReduceOp op)
    {
        (CudaBuffer from, CudaBuffer to) = Check(input, output);
        RequireLengths(from, to, from.Length, from.Length);
        string? reason = NcclTypes.GetUnsupportedReason(from.ElementType);
        if (reason is not null)
        {
            throw new ArgumentException(reason, nameof(input));
        }

        CollectiveRules.ThrowIfMeanOfIntegers(from.ElementType, op, nameof(op));

        NcclTypes.TryGetDataType(from.ElementType, out NcclDataType type);
        CudaCheck.Nccl(Nccl.ncclAllReduce(from.Pointer, to.Pointer, (nuint)from.Length, type, NcclTypes.ToNccl(op), _handle.Value, _state.StreamValue), "ncclAllReduce", _handle.Value);
        if (op == ReduceOp.Mean && Size > 1)
        {
            _provider.Divide(to, Size);
        }
    }

    /// <summary>Copies rank <paramref name="root"/>'s <paramref name="input"/> into every rank's <paramref name="output"/>.</summary>
    /// <param name="input">The values (read on the root only).</param>
    /// <param name="output">The result, same type and length.</param>
    /// <param name="root">The root rank.</param>
    public void Broadcast(DeviceBuffer input, DeviceBuffer output, int root)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        (CudaBuffer from, CudaBuffer to) = Check(input, output);
        RequireLengths(from, to, from.Length, from.Length);
        CudaCheck.Nccl(Nccl.ncclBroadcast(from.Pointer, to.Pointer, (nuint)from.Length, DataType(from), root, _handle.Value, _state.StreamValue), "ncclBroadcast", _handle.Value);
    }

    /// <summary>Gathers every rank's <paramref name="input"/> into <paramref name="output"/> in rank order.</summary>
    /// <param name="input">This rank's values.</param>
    /// <param name="output">Size × input.Length elements.</param>
    public void AllGather(DeviceBuffer input, DeviceBuffer output)
    {
        (CudaBuffer from, CudaBuffer to) = Check(input, output);
        RequireLengths(from, to, from.Length, from.Length * Size);
        CudaCheck.Nccl(Nccl.ncclAllGather(from.Pointer, to.Pointer, (nuint)from.Length, DataType(from), _handle.Value, _state.StreamValue), "ncclAllGather", _handle.Value);
    }

    /// <summary>Sums over the ranks and leaves block <see cref="Rank"/> of the sum in <paramref name="output"/>.</summary>
    /// <param name="input">Size × output.Length elements.</param>
    /// <param name="output">This rank's block of the sum.</param>
    public void ReduceScatter(DeviceBuffer input, DeviceBuffer output)
    {
        (CudaBuffer from, CudaBuffer to) = Check(input, output);
        RequireLengths(from, to, to.Length * Size, to.Length);
        CudaCheck.Nccl(Nccl.ncclReduceScatter(from.Pointer, to.Pointer, (nuint)to.Length, DataType(from), NcclRedOp.Sum, _handle.Value, _state.StreamValue), "ncclReduceScatter", _handle.Value);
    }

    /// <summary>Finalizes and destroys the communicator, or aborts it if NCCL reported an asynchronous error. Every rank must dispose it, as NCCL's finalize is collective.</summary>
    public void Dispose()
    {
        if (!_handle.IsClosed)
        {
            _state.MakeCurrent();
            NcclTeardown.End([_handle]);
        }
    }

    private static void RequireNccl()
    {
        if (!CudaLibraries.TryLoad(CudaLibrary.Nccl, out string? reason))
        {
            throw new NotSupportedException($"Communicators across processes run on NCCL, which is not available: {reason}");
        }
    }

    private static NcclUniqueId LocalUniqueId()
    {
        NcclUniqueId id;
        CudaCheck.Nccl(Nccl.ncclGetUniqueId(&id), "ncclGetUniqueId");
        return id;
    }

    private static NcclUniqueId ExchangeThroughStore(DistributedEnvironment environment, TimeSpan timeout, ILogger logger)
    {
        byte[] bytes = ExchangeUniqueId(environment, static () =>
        {
            NcclUniqueId created = LocalUniqueId();
            return ((ReadOnlySpan<byte>)created).ToArray();
        }, timeout, logger);
        NcclUniqueId id = default;
        bytes.CopyTo(id);
        return id;
    }

    /// <summary>
    /// Rank 0 creates the id and publishes it in a <see cref="TcpStore"/> it serves; the other ranks read it and say so,
    /// and rank 0 keeps serving until all have. Under torchrun the store listens on <c>MASTER_PORT + 1</c>, because
    /// torchrun's own agent store already holds <c>MASTER_PORT</c>. The store needs the job secret
    /// (<see cref="DistributedEnvironment.StoreSecret"/>); a world of one needs no store, and no secret.
    /// </summary>
    internal static byte[] ExchangeUniqueId(DistributedEnvironment environment, Func<byte[]> createId, TimeSpan timeout, ILogger? logger = null)
    {
        if (environment.WorldSize == 1)
        {
            return createId();
        }

        string host = environment.MasterAddress ?? throw new InvalidOperationException("MASTER_ADDR is needed for the store rendezvous.");
        int port = environment.MasterPort ?? throw new InvalidOperationException("MASTER_PORT is needed for the store rendezvous.");
        if (string.Equals(environment.Launcher, "torchrun", StringComparison.Ordinal))
        {
            port = checked(port + 1);
        }

        bool root = environment.Rank == 0;

        // Every rank holds one connection and writes one key; the margin leaves room for a rank that reconnects.
        var defaults = new TcpStoreOptions();
        var options = new TcpStoreOptions
        {
            Secret = environment.StoreSecret,
            MaxConnections = Math.Max(defaults.MaxConnections, environment.WorldSize + 64),
            MaxKeys = Math.Max(defaults.MaxKeys, environment.WorldSize + 64),
            Logger = logger,
        };
        using TcpStore store = TcpStore.Start(host, port, isServer: root, timeout, options);
        string key = IdKeyPrefix + environment.WorldSize.ToString(CultureInfo.InvariantCulture);
        if (root)
        {
            byte[] created = createId();
            store.Set(key, created);
            store.Wait([.. Enumerable.Range(1, environment.WorldSize - 1).Select(r => ReadKey(key, r))]);
            return created;
        }

        byte[] bytes = store.Get(key);
        if (bytes.Length != NcclUniqueId.Size)
        {
            throw new InvalidOperationException($"The NCCL unique id read from the store at {host}:{port} has {bytes.Length} bytes, not {NcclUniqueId.Size}.");
        }

        store.Set(ReadKey(key, environment.Rank), [1]);
        return bytes;
    }

    private static string ReadKey(string key, int rank) => string.Create(CultureInfo.InvariantCulture, $"{key}/read/{rank}");

    private static NcclCommunicator Create(CudaProvider provider, Device device, int worldSize, int rank, NcclUniqueId id)
    {
        CudaDeviceState state = provider.GetState(device);
        state.MakeCurrent();
        nint comm;
        CudaCheck.Nccl(Nccl.ncclCommInitRank(&comm, worldSize, id, rank), "ncclCommInitRank");
        state.MakeCurrent();
        return new NcclCommunicator(provider, device, new CudaResourceHandle(CudaResourceKind.NcclCommunicator, comm, state.Context));
    }

    private static NcclDataType DataType(CudaBuffer buffer) =>
        NcclTypes.TryGetDataType(buffer.ElementType, out NcclDataType type)
            ? type
            : throw new ArgumentException($"NCCL has no type for {buffer.ElementType.Name}.", nameof(buffer));

    private void RequireLengths(CudaBuffer input, CudaBuffer output, long inputLength, long outputLength)
    {
        if (input.Length != inputLength || output.Length != outputLength)
        {
            throw new ArgumentException($"With {Size} ranks the input must hold {inputLength} elements and the output {outputLength}; got {input} and {output}.", nameof(output));
        }
    }

    private (CudaBuffer Input, CudaBuffer Output) Check(DeviceBuffer input, DeviceBuffer output)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ObjectDisposedException.ThrowIf(input.IsDisposed, input);
        ObjectDisposedException.ThrowIf(output.IsDisposed, output);
        if (input is not CudaBuffer from || output is not CudaBuffer to || from.Device != Device || to.Device != Device)
        {
            throw new ArgumentException($"Both buffers must be CUDA buffers on {Device}; got {input} and {output}.", nameof(input));
        }

        if (from.ElementType != to.ElementType)
        {
            throw new ArgumentException($"Input and output element types differ: {from.ElementType.Name} and {to.ElementType.Name}.", nameof(output));
        }

        _state.MakeCurrent();
        return (from, to);
    }
}
