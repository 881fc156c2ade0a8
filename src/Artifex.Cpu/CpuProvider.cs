using System.Collections.Immutable;
using System.Globalization;
using Artifex.Cpu.Runtime;
using Artifex.Runtime;
using Microsoft.Extensions.Logging;

namespace Artifex.Cpu;

/// <summary>
/// Emulates N devices in one process, each with its own 64-byte aligned native memory.
/// </summary>
/// <remarks>
/// The counterpart of JAX's <c>--xla_force_host_platform_device_count</c>: deterministic multi-device code on a
/// laptop or CI machine. The device count comes from the constructor, or from the environment variable
/// <c>ARTIFEX_CPU_DEVICES</c>; without either it is <see cref="DefaultDeviceCount"/> (1, as JAX's CPU backend).
/// </remarks>
public sealed class CpuProvider : CpuMemoryProvider
{
    /// <summary>The platform name of CPU devices.</summary>
    public const string PlatformName = "cpu";

    /// <summary>The environment variable that sets the device count of <see cref="CpuProvider()"/>.</summary>
    public const string DeviceCountVariable = "ARTIFEX_CPU_DEVICES";

    /// <summary>The device count when neither the constructor nor the environment sets one.</summary>
    public const int DefaultDeviceCount = 1;

    /// <summary>The default of <see cref="CachedBytesLimit"/>: 1 GiB.</summary>
    public const long DefaultCachedBytesLimit = 1L << 30;

    private readonly ImmutableArray<Device> _devices;
    private readonly Lock _workersLock = new();
    private readonly CpuSpmdBackend _backend;
    private SpmdWorkerPool? _workers;
    private readonly CpuKernels _kernels;
    private HostCollectiveRunner? _hostRunner;

    /// <summary>Creates a provider whose device count is read from <c>ARTIFEX_CPU_DEVICES</c> (default 1).</summary>
    /// <exception cref="InvalidOperationException">The variable is set but is not a positive integer.</exception>
    public CpuProvider()
        : this(ReadDeviceCount())
    {
    }

    /// <summary>Creates a provider emulating <paramref name="deviceCount"/> devices.</summary>
    /// <param name="deviceCount">The number of devices (1 or more; may exceed the core count).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="deviceCount"/> is below 1.</exception>
    public CpuProvider(int deviceCount)
        : base(PlatformName, DefaultCachedBytesLimit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(deviceCount, 1);
        _devices = [.. Enumerable.Range(0, deviceCount).Select(id => CreateDevice(id, PlatformName))];
        _kernels = new CpuKernels(this, 1);
        _backend = new CpuSpmdBackend(this);
    }

    /// <summary>Creates a provider from options, logging to <paramref name="logger"/> (the constructor dependency injection uses).</summary>
    /// <param name="options">The options; <see cref="CpuProviderOptions.DeviceCount"/> null reads <c>ARTIFEX_CPU_DEVICES</c>.</param>
    /// <param name="logger">The logger, or <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">The device count is below 1, or a limit is negative.</exception>
    public CpuProvider(CpuProviderOptions options, ILogger<CpuProvider>? logger = null)
        : this((options ?? throw new ArgumentNullException(nameof(options))).DeviceCount ?? ReadDeviceCount())
    {
        if (logger is not null)
        {
            Logger = logger;
        }

        CachedBytesLimit = options.CachedBytesLimit;
        CollectiveTimeout = options.CollectiveTimeout;
        KernelThreads = options.KernelThreads;
        CpuLog.Started(Logger, _devices.Length, SimdWidthBits, Environment.ProcessorCount, ThreadAffinity.IsEnabled);
    }

    /// <summary>Gets the widest SIMD vector the collective kernels use on this machine, in bits (0 for scalar code).</summary>
    public static int SimdWidthBits =>
        System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? 512
        : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? 256
        : System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated ? 128 : 0;

    /// <inheritdoc/>
    public override IReadOnlyList<Device> Devices => _devices;

    /// <inheritdoc/>
    public override DeviceKernels Kernels => _kernels;

    /// <summary>Gets or sets how many threads one GEMM may use (default 1: one core per emulated device). Results do not depend on it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int KernelThreads
    {
        get => _kernels.Threads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _kernels.Threads = value;
        }
    }

    /// <summary>
    /// Gets or sets how many bytes of freed buffers the provider keeps for reuse (same-size allocations then skip the
    /// system allocator and the page faults of fresh memory). 0 frees at once. Default 1 GiB.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public long CachedBytesLimit
    {
        get => Memory.CachedBytesLimit;
        set => Memory.CachedBytesLimit = value;
    }

    /// <summary>Gets the bytes of freed buffers currently kept for reuse.</summary>
    public long CachedBytes => Memory.CachedBytes;

    /// <summary>Reads the device count from <c>ARTIFEX_CPU_DEVICES</c>, or returns <see cref="DefaultDeviceCount"/> when it is unset.</summary>
    /// <returns>The device count.</returns>
    /// <exception cref="InvalidOperationException">The variable is set but is not a positive integer.</exception>
    public static int ReadDeviceCount()
    {
        string? text = Environment.GetEnvironmentVariable(DeviceCountVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return DefaultDeviceCount;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count < 1)
        {
            throw new InvalidOperationException($"{DeviceCountVariable} must be a positive integer, but is '{text}'.");
        }

        return count;
    }

    /// <summary>Gets the memory of a CPU buffer as a span. For the CPU provider's kernels and collectives.</summary>
    internal static Span<T> GetSpan<T>(DeviceBuffer buffer)
        where T : unmanaged => ((CpuBuffer)buffer).AsSpan<T>();

    /// <inheritdoc/>
    /// <remarks>
    /// Each participant runs on its device's long-lived thread. Collectives meet at a rendezvous per axis group:
    /// once all participants arrive, the element range is cut into chunks that the participants claim and reduce in
    /// one fused pass each (read the inputs in rank order, write every output), so each element's result depends only
    /// on the rank order, never on the thread count or chunking.
    /// </remarks>
    protected override void RunSpmdCore(Mesh mesh, Action<SpmdContext> body, CancellationToken cancellationToken)
    {
        SpmdWorkerPool workers = EnsureWorkers();
        try
        {
            workers.Run(new SpmdRegion(mesh, body, _backend, cancellationToken));
        }
        catch (TimeoutException error)
        {
            CpuLog.CollectiveTimedOut(Logger, mesh, error.Message);
            throw;
        }
        catch (Exception error)
        {
            CpuLog.RegionAborted(Logger, mesh, error.GetType().Name, error.Message);
            throw;
        }
    }

    /// <inheritdoc/>
    protected override void AllReduceShardsCore(GlobalArray array, Mesh mesh, ReduceOp op, ReadOnlySpan<string> axisNames)
    {
        string? reason = Artifex.Cpu.Kernels.CollectiveDispatch.GetUnsupportedReason(array.ElementType);
        if (reason is not null)
        {
            throw new ArgumentException(reason, nameof(array));
        }

        ObjectDisposedException.ThrowIf(IsDisposed, this);
        HostCollectiveRunner runner;
        SpmdWorkerPool workers = EnsureWorkers();
        lock (_workersLock)
        {
            runner = _hostRunner ??= new HostCollectiveRunner(workers);
        }

        runner.AllReduce(array, mesh, op, axisNames);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_workersLock)
            {
                _workers?.Dispose();
                _workers = null;
                _hostRunner = null;
            }
        }
        else
        {
            // Collected without Dispose: nothing can run a region any more; let the threads end.
            _workers?.Stop();
        }

        base.Dispose(disposing);
    }

    private SpmdWorkerPool EnsureWorkers()
    {
        lock (_workersLock)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _workers ??= new SpmdWorkerPool(_devices, _backend.PinsThreads);
        }
    }
}
