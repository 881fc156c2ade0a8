using System.Collections.Immutable;
using System.Globalization;
using Artifex.Cpu;
using Artifex.Mpi.Runtime;
using Artifex.Runtime;
using Microsoft.Extensions.Logging;

namespace Artifex.Mpi;

/// <summary>
/// The provider contract across processes and hosts on OpenMPI: each process owns K emulated CPU devices (the CPU
/// provider's memory and kernels), every process sees every device (JAX's multi-controller model), and collectives over
/// axes that span processes run through MPI.
/// </summary>
/// <remarks>
/// <para>
/// Devices are numbered process-major: process p's local device l has id <c>p·K + l</c> and <see cref="Device.ProcessIndex"/>
/// p. Global arrays hold only their addressable shards; placing the same global batch on every process
/// (<c>DataParallel.ShardBatch</c>) gives each process its own shards. An SPMD region runs this process's participants; a
/// collective first reduces the local participants' values in rank order, then calls MPI once over the processes of the
/// group (one communicator per axis group, split from the world and cached), then copies the result back.
/// </para>
/// <para>
/// Started without <c>mpirun</c> the world is this one process (MPI's singleton mode), so the same program runs on a laptop.
/// An exception in a participant of a multi-process job aborts the whole job (<c>MPI_Abort</c>) after printing it, because
/// the other processes would otherwise wait in MPI forever; a rank that never joins a collective is caught by the MPI
/// watchdog (<c>ARTIFEX_MPI_COLLECTIVE_TIMEOUT_S</c>).
/// </para>
/// </remarks>
public sealed partial class MpiProvider : CpuMemoryProvider
{
    /// <summary>The provider's name in configuration and on the command line (<c>--provider mpi</c>); its devices are <c>cpu</c> devices.</summary>
    public const string ProviderName = "mpi";

    /// <summary>The exit code of a job aborted because a participant threw.</summary>
    public const int ExceptionExitCode = 17;

    private readonly ImmutableArray<Device> _devices;
    private readonly int _process;
    private readonly int _processCount;
    private readonly CpuKernels _kernels;
    private readonly Lock _workersLock = new();
    private readonly MpiSpmdBackend _backend;
    private SpmdWorkerPool? _workers;

    /// <summary>Creates a provider with <c>ARTIFEX_LOCAL_DEVICES</c> (default 1) devices per process.</summary>
    /// <exception cref="PlatformNotSupportedException">OpenMPI's <c>libmpi.so.40</c> cannot be loaded.</exception>
    public MpiProvider()
        : this(new MpiProviderOptions())
    {
    }

    /// <summary>Creates a provider with <paramref name="localDeviceCount"/> devices in each process.</summary>
    /// <param name="localDeviceCount">Devices per process; the same on every process.</param>
    public MpiProvider(int localDeviceCount)
        : this(new MpiProviderOptions { LocalDeviceCount = localDeviceCount })
    {
    }

    /// <summary>Creates a provider from options (the constructor dependency injection uses).</summary>
    /// <param name="options">The options.</param>
    /// <param name="logger">The logger, or <see langword="null"/>.</param>
    /// <exception cref="PlatformNotSupportedException">OpenMPI cannot be loaded.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The local device count is below 1.</exception>
    /// <exception cref="InvalidOperationException">The processes disagree on the local device count.</exception>
    public MpiProvider(MpiProviderOptions options, ILogger<MpiProvider>? logger = null)
        : base(CpuProvider.PlatformName, CpuProvider.DefaultCachedBytesLimit)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (logger is not null)
        {
            Logger = logger;
        }

        if (!MpiRuntime.IsAvailable)
        {
            throw new PlatformNotSupportedException($"The MPI provider cannot start: {MpiRuntime.UnavailableReason}");
        }

        int local = options.LocalDeviceCount ?? ReadLocalDeviceCount();
        ArgumentOutOfRangeException.ThrowIfLessThan(local, 1, nameof(options));
        MpiRuntime.Initialize();
        MpiCommunicator world = MpiRuntime.World;
        _process = world.Rank;
        _processCount = world.Size;
        RequireSameLocalCount(world, local);
        _devices = [.. Enumerable.Range(0, _processCount * local).Select(id => CreateDevice(id, CpuProvider.PlatformName, id / local))];
        LocalDeviceCount = local;
        _kernels = new CpuKernels(this, 1);
        Communicators = new MpiGroupCommunicators(world, _process);
        _backend = new MpiSpmdBackend(this);
        // One timeout: the provider's, which in a multi-process job is also the job's MPI watchdog. There its default is
        // the watchdog's setting (ARTIFEX_MPI_COLLECTIVE_TIMEOUT_S, 300 s; 0 means none): a sibling may legitimately be
        // inside another group's MPI call for as long as MPI may take.
        TimeSpan watchdog = MpiWatchdog.Timeout;
        if (options.CollectiveTimeout is { } timeout)
        {
            CollectiveTimeout = timeout;
        }
        else if (_processCount > 1)
        {
            CollectiveTimeout = watchdog > TimeSpan.Zero ? watchdog : Timeout.InfiniteTimeSpan;
        }
    }

    /// <inheritdoc/>
    public override IReadOnlyList<Device> Devices => _devices;

    /// <inheritdoc/>
    public override int ProcessIndex => _process;

    /// <inheritdoc/>
    public override int ProcessCount => _processCount;

    /// <inheritdoc/>
    /// <remarks>MPI has no Half reduction, so Half sums and means over groups that span processes are refused.</remarks>
    public override string? GetCrossProcessReductionUnsupportedReason(Type elementType) =>
        _processCount > 1 && elementType == typeof(Half) ? CrossProcessHalfReason : null;

    /// <summary>Why Half is not reduced across processes (the executor's refusal says the same).</summary>
    internal const string CrossProcessHalfReason = "MPI has no Half reduction: reduce in Single.";

    /// <summary>Gets how many devices each process owns.</summary>
    public int LocalDeviceCount { get; }

    /// <inheritdoc/>
    public override DeviceKernels Kernels => _kernels;

    internal MpiGroupCommunicators Communicators { get; }

    /// <inheritdoc/>
    /// <remarks>In a multi-process job this is also the job's <see cref="MpiWatchdog.Timeout"/>: one limit for the wait for local participants and for each MPI call.</remarks>
    protected override void OnCollectiveTimeoutChanged(TimeSpan timeout)
    {
        if (_processCount > 1)
        {
            MpiWatchdog.Timeout = timeout;
        }
    }

    /// <summary>Reads <c>ARTIFEX_LOCAL_DEVICES</c>, or 1 when unset.</summary>
    /// <returns>The local device count.</returns>
    /// <exception cref="InvalidOperationException">The variable is not a positive integer.</exception>
    public static int ReadLocalDeviceCount()
    {
        string? text = Environment.GetEnvironmentVariable(MpiProviderOptions.LocalDevicesVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return 1;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count >= 1
            ? count
            : throw new InvalidOperationException($"{MpiProviderOptions.LocalDevicesVariable} must be a positive integer, but is '{text}'.");
    }

    /// <summary>Allocates a counted scratch buffer of a runtime element type on a local device.</summary>
    internal DeviceBuffer AllocateScratch(Device device, Type elementType, long length) =>
        elementType == typeof(Half) ? Allocate<Half>(device, length)
        : elementType == typeof(double) ? Allocate<double>(device, length)
        : elementType == typeof(int) ? Allocate<int>(device, length)
        : elementType == typeof(long) ? Allocate<long>(device, length)
        : Allocate<float>(device, length);

    private static unsafe void RequireSameLocalCount(MpiCommunicator world, int local)
    {
        if (world.Size == 1)
        {
            return;
        }

        long most = local, least = local;
        world.AllReduce(null, &most, 1, typeof(long), ReduceOp.Max);
        world.AllReduce(null, &least, 1, typeof(long), ReduceOp.Min);
        if (most != least)
        {
            throw new InvalidOperationException(string.Create(
                CultureInfo.InvariantCulture,
                $"Every process must own the same number of devices, but the counts range from {least} to {most} (this process: {local}); set {MpiProviderOptions.LocalDevicesVariable} alike everywhere."));
        }
    }
}
