using System.Collections.Immutable;
using Artifex.Cuda.Runtime;
using Artifex.Runtime;
using Microsoft.Extensions.Logging;

namespace Artifex.Cuda;

/// <summary>
/// Runs the provider contract on NVIDIA GPUs: device memory and copies through the CUDA driver API, GEMM, axpy and
/// scaling on cuBLAS, the other kernels compiled at run time by NVRTC, SPMD regions with one host thread per GPU, and
/// every collective on NCCL.
/// </summary>
/// <remarks>
/// <para>
/// All work for a GPU goes onto that GPU's one non-blocking stream, in the order it is issued; copies to the host wait
/// for it, so results read back are always complete. A collective is enqueued only once every participant of its group
/// has arrived (and agreed on shape, type and op), so a participant that fails or never arrives cannot leave the other
/// GPUs blocked inside NCCL: they get an exception, as on the CPU provider.
/// </para>
/// <para>
/// Results are bitwise repeatable run to run for a fixed set of GPUs, but may differ from the CPU provider in the last
/// bits: NCCL sums in its own ring/tree order (a mean is NCCL's sum divided once by the group size, as on the CPU), cuBLAS
/// blocks its dot products differently, and <c>expf</c>/<c>logf</c> are not correctly rounded on the GPU.
/// </para>
/// </remarks>
public sealed partial class CudaProvider : DeviceProvider
{
    /// <summary>The platform name of CUDA devices.</summary>
    public const string PlatformName = "cuda";

    private readonly ImmutableArray<Device> _devices;
    private readonly CudaDeviceState[] _states;
    private readonly Lock _workersLock = new();
    private readonly CudaKernels _kernels;
    private SpmdWorkerPool? _workers;
    private readonly CudaSpmdBackend _backend;

    /// <summary>Creates a provider over every visible GPU.</summary>
    /// <exception cref="PlatformNotSupportedException">No usable GPU (the message says why: no driver, no device, disabled).</exception>
    public CudaProvider()
        : this(new CudaProviderOptions())
    {
    }

    /// <summary>Creates a provider over the first <paramref name="deviceCount"/> GPUs.</summary>
    /// <param name="deviceCount">How many GPUs, from ordinal 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="deviceCount"/> is below 1.</exception>
    /// <exception cref="PlatformNotSupportedException">No usable GPU, or fewer than <paramref name="deviceCount"/>.</exception>
    public CudaProvider(int deviceCount)
        : this(new CudaProviderOptions { DeviceOrdinals = [.. Enumerable.Range(0, RequirePositive(deviceCount))] })
    {
    }

    /// <summary>Creates a provider from options, logging to <paramref name="logger"/> (the constructor dependency injection uses).</summary>
    /// <param name="options">The options; <see cref="CudaProviderOptions.DeviceOrdinals"/> null means every visible GPU.</param>
    /// <param name="logger">The logger, or <see langword="null"/> for none.</param>
    /// <exception cref="PlatformNotSupportedException">No usable GPU, or an ordinal beyond the GPUs present.</exception>
    /// <exception cref="ArgumentException">An ordinal is negative or repeated.</exception>
    public CudaProvider(CudaProviderOptions options, ILogger<CudaProvider>? logger = null)
        : base(PlatformName)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (logger is not null)
        {
            Logger = logger;
        }

        CudaProbeResult probe = CudaProbe.Current;
        if (!probe.IsAvailable)
        {
            throw new PlatformNotSupportedException($"The CUDA provider cannot start: {probe.Reason}");
        }

        int[] ordinals = ResolveOrdinals(options.DeviceOrdinals, probe.DeviceCount);
        _states = OpenAll(ordinals);
        _devices = [.. _states.Select((s, id) => CreateDevice(id, s.Facts.Name))];
        CollectiveTimeout = options.CollectiveTimeout;
        Probe = probe;
        Image = new CudaKernelImage();
        Launcher = new CudaLauncher(Image);
        _kernels = new CudaKernels(this);
        _backend = new CudaSpmdBackend(this);
        if (Logger.IsEnabled(LogLevel.Information))
        {
            string names = string.Join(", ", _states.Select(static s => s.Facts.Name));
            string found = probe.ToString();
            CudaLog.Started(Logger, _devices.Length, names, found);
        }
    }

    /// <inheritdoc/>
    public override IReadOnlyList<Device> Devices => _devices;

    /// <inheritdoc/>
    public override DeviceKernels Kernels => _kernels;

    /// <summary>Gets what the probe found when the provider started (driver, libraries and their versions).</summary>
    public CudaProbeResult Probe { get; }

    /// <summary>Gets the CUDA ordinal of each device, in device id order.</summary>
    public IReadOnlyList<int> Ordinals => [.. _states.Select(static s => s.Ordinal)];

    internal NcclCommunicatorCache Communicators { get; } = new();

    internal CudaKernelImage Image { get; }

    internal CudaLauncher Launcher { get; }

    /// <summary>Waits until every GPU of the provider has finished the work queued so far.</summary>
    /// <exception cref="CudaException">Queued work failed.</exception>
    public void Synchronize()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        foreach (CudaDeviceState state in _states)
        {
            state.Synchronize();
        }
    }

    /// <summary>Gets the provider's logger, for the parts of the provider that are not a provider (the store rendezvous).</summary>
    internal ILogger ProviderLogger => Logger;

    internal CudaDeviceState GetState(Device device) => _states[device.Id];

    internal void ReportReleaseFailure(DeviceBuffer buffer, CudaException error)
    {
        if (Logger.IsEnabled(LogLevel.Warning))
        {
            string name = buffer.ToString();
            CudaLog.ReleaseFailed(Logger, name, error.Message);
        }
    }

    private static int RequirePositive(int deviceCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(deviceCount, 1);
        return deviceCount;
    }

    private static int[] ResolveOrdinals(IList<int>? requested, int available)
    {
        int[] ordinals = requested is null ? [.. Enumerable.Range(0, available)] : [.. requested];
        if (ordinals.Length == 0)
        {
            throw new ArgumentException("At least one GPU ordinal is needed.", nameof(requested));
        }

        for (int i = 0; i < ordinals.Length; i++)
        {
            if (ordinals[i] < 0 || Array.IndexOf(ordinals, ordinals[i], 0, i) >= 0)
            {
                throw new ArgumentException($"GPU ordinal {ordinals[i]} is negative or repeated in [{string.Join(", ", ordinals)}].", nameof(requested));
            }

            if (ordinals[i] >= available)
            {
                throw new PlatformNotSupportedException($"GPU ordinal {ordinals[i]} was requested, but this machine has {available} visible GPU{(available == 1 ? string.Empty : "s")}.");
            }
        }

        return ordinals;
    }

    private static CudaDeviceState[] OpenAll(int[] ordinals)
    {
        var states = new List<CudaDeviceState>(ordinals.Length);
        try
        {
            foreach (int ordinal in ordinals)
            {
                states.Add(CudaDeviceState.Open(ordinal));
            }

            return [.. states];
        }
        catch
        {
            foreach (CudaDeviceState state in states)
            {
                state.Dispose();
            }

            throw;
        }
    }
}
