using System.Runtime.CompilerServices;
using Artifex.Runtime;

namespace Artifex;

// SPMD regions and host-issued collectives: the collective half of the provider contract.
public abstract partial class DeviceProvider
{
    /// <summary>The bit of <see cref="_operations"/> that says the provider is closing: no operation may start.</summary>
    private const long Closing = 1L << 62;

    private readonly CancellationTokenSource _lifetime = new();
    private readonly WaitSignal _operationsEnded = new();
    private TimeSpan _collectiveTimeout = TimeSpan.FromSeconds(60);
    private int[]? _busy;

    /// <summary>Running regions and host-issued collectives, plus <see cref="Closing"/> once disposal began.</summary>
    private long _operations;

    /// <summary>
    /// Gets or sets how long a participant waits in a collective for the others before it fails with a
    /// <see cref="TimeoutException"/> naming the axis and the ranks that never arrived. Default 60 seconds;
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is neither positive nor infinite.</exception>
    public TimeSpan CollectiveTimeout
    {
        get => _collectiveTimeout;
        set
        {
            if (value != Timeout.InfiniteTimeSpan)
            {
                ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            }

            _collectiveTimeout = value;
            OnCollectiveTimeoutChanged(value);
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> once per device of <paramref name="mesh"/>, each on the provider's thread for that
    /// device, with every mesh axis name bound (the core of JAX <c>shard_map</c>). Returns when every participant has
    /// returned.
    /// </summary>
    /// <param name="mesh">A mesh of this provider's devices.</param>
    /// <param name="body">
    /// The per-device body; <see cref="SpmdContext.Current"/> is its context. It runs synchronously on the device's
    /// thread: an <see langword="async"/> lambda would return at its first <see langword="await"/>, so it is refused.
    /// </param>
    /// <param name="cancellationToken">
    /// Cancels the region: every participant waiting in a collective, and every later collective, throws
    /// <see cref="OperationCanceledException"/>; bodies can watch <see cref="SpmdContext.CancellationToken"/>.
    /// </param>
    /// <exception cref="ArgumentException">A mesh device belongs to another provider, or <paramref name="body"/> is an <see langword="async"/> lambda.</exception>
    /// <exception cref="InvalidOperationException">A device of the mesh is already running a region (nested or concurrent regions); the provider rejects it before running anything.</exception>
    /// <exception cref="NotSupportedException">The provider has no SPMD support.</exception>
    /// <exception cref="OperationCanceledException">The token was canceled, or the provider is being disposed.</exception>
    /// <exception cref="ObjectDisposedException">The provider has been disposed.</exception>
    /// <remarks>
    /// <para>
    /// If a participant throws, every participant waiting in a collective is released with an exception that carries
    /// the original, and this method rethrows the first failure's original exception.
    /// </para>
    /// <para>
    /// The method returns only when every participant has returned, even after a failure, a timeout or cancellation:
    /// a participant still running user code may be using buffers the caller would free next, and .NET cannot stop a
    /// thread from outside. A body that never returns (an endless loop, a blocking call that ignores the token) keeps
    /// this method, and the devices it claimed, waiting.
    /// </para>
    /// <para>
    /// Disposing the provider cancels its running regions and waits for them to return before it frees any memory.
    /// </para>
    /// </remarks>
    public void RunSpmd(Mesh mesh, Action<SpmdContext> body, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentNullException.ThrowIfNull(body);
        if (body.Method.IsDefined(typeof(AsyncStateMachineAttribute), inherit: false))
        {
            throw new ArgumentException(
                "The SPMD body is an async lambda: it would return at its first await while the region went on without it. Pass a synchronous body and block inside it if it must wait.",
                nameof(body));
        }

        foreach (Device device in mesh.Devices)
        {
            ThrowIfForeign(device, nameof(mesh));
        }

        cancellationToken.ThrowIfCancellationRequested();
        int[] busy = Volatile.Read(ref _busy) ?? InitializeBusy();
        EnterOperation();
        try
        {
            Claim(mesh, busy);
            try
            {
                if (cancellationToken.CanBeCanceled)
                {
                    using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
                    RunSpmdCore(mesh, body, linked.Token);
                }
                else
                {
                    RunSpmdCore(mesh, body, _lifetime.Token);
                }
            }
            finally
            {
                ReleaseClaim(mesh, busy, mesh.Size);
            }
        }
        finally
        {
            ExitOperation();
        }
    }

    /// <summary>
    /// Reduces the shards of a global array across the devices of the given mesh axes, in place, from the host
    /// (single-controller form): afterwards each shard holds the reduction of its group's shards. Equivalent to a
    /// region whose body all-reduces its local block with in- and out-spec equal to the array's spec.
    /// </summary>
    /// <param name="array">A global array with a <see cref="NamedSharding"/> on this provider; its shards are overwritten.</param>
    /// <param name="op">The reduction.</param>
    /// <param name="axisNames">Axes of the array's mesh, major first (a params span: a call allocates nothing).</param>
    /// <exception cref="ArgumentException">The array is not named-sharded on this provider, or an axis is unknown or repeated.</exception>
    /// <exception cref="InvalidOperationException">A device of the array's mesh is running a region or another host-issued collective.</exception>
    public void AllReduceShards(GlobalArray array, ReduceOp op, params ReadOnlySpan<string> axisNames)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        ArgumentNullException.ThrowIfNull(array);
        ObjectDisposedException.ThrowIf(array.IsDisposed, array);
        if (!ReferenceEquals(array.Provider, this) || array.Sharding is not NamedSharding sharding)
        {
            throw new ArgumentException($"{array} must be laid out with a NamedSharding on this provider.", nameof(array));
        }

        if (op is < ReduceOp.Mean or > ReduceOp.Min)
        {
            throw new ArgumentOutOfRangeException(nameof(op), op, "Undefined reduce op.");
        }

        Runtime.CollectiveRules.ThrowIfMeanOfIntegers(array.ElementType, op, nameof(op));

        if (axisNames.Length == 0)
        {
            throw new ArgumentException("At least one axis name is needed.", nameof(axisNames));
        }

        for (int i = 0; i < axisNames.Length; i++)
        {
            if (sharding.Mesh.IndexOfAxis(axisNames[i]) < 0)
            {
                throw new ArgumentException($"Axis '{axisNames[i]}' is not an axis of {sharding.Mesh}.", nameof(axisNames));
            }

            if (axisNames[..i].Contains(axisNames[i]))
            {
                throw new ArgumentException($"Axis '{axisNames[i]}' appears more than once.", nameof(axisNames));
            }
        }

        // A host-issued collective runs on the mesh's devices as a region does: it claims them for its duration.
        Mesh mesh = sharding.Mesh;
        int[] busy = Volatile.Read(ref _busy) ?? InitializeBusy();
        EnterOperation();
        try
        {
            Claim(mesh, busy);
            try
            {
                AllReduceShardsCore(array, mesh, op, axisNames);
            }
            finally
            {
                ReleaseClaim(mesh, busy, mesh.Size);
            }
        }
        finally
        {
            ExitOperation();
        }
    }

    /// <summary>Counts a region or host-issued collective in, unless disposal has begun.</summary>
    /// <exception cref="ObjectDisposedException">The provider is being disposed.</exception>
    private void EnterOperation()
    {
        while (true)
        {
            long operations = Volatile.Read(ref _operations);
            if ((operations & Closing) != 0)
            {
                throw new ObjectDisposedException(GetType().FullName, "The provider is being disposed; it starts no more regions or collectives.");
            }

            if (Interlocked.CompareExchange(ref _operations, operations + 1, operations) == operations)
            {
                return;
            }
        }
    }

    private void ExitOperation()
    {
        if (Interlocked.Decrement(ref _operations) == Closing)
        {
            _operationsEnded.Notify();
        }
    }

    /// <summary>
    /// The first step of disposal, before any resource is released: refuse new regions and collectives, cancel the running
    /// regions, and wait until every one has returned, so that nothing frees memory or stops a thread that is in use.
    /// </summary>
    private void StopOperations()
    {
        if ((Interlocked.Or(ref _operations, Closing) & Closing) != 0)
        {
            return;
        }

        _lifetime.Cancel();
        var ended = new OperationsEnded(this);
        TimeSpan warnEvery = TimeSpan.FromSeconds(10);
        while (!Waiting.Until(ref ended, _operationsEnded, WaitPolicy.Idle, Waiting.Deadline(warnEvery), region: null))
        {
            ProviderLog.DisposeWaiting(Logger, Platform, Volatile.Read(ref _operations) & ~Closing, warnEvery.TotalSeconds);
        }
    }

    private int[] InitializeBusy()
    {
        Interlocked.CompareExchange(ref _busy, new int[Devices.Count], null);
        return _busy;
    }

    /// <summary>Marks this process's devices of the mesh as running a region, or throws (leaving none marked) when one already is.</summary>
    private void Claim(Mesh mesh, int[] busy)
    {
        for (int k = 0; k < mesh.Size; k++)
        {
            Device device = mesh.Devices[k];
            if (IsAddressable(device) && Interlocked.CompareExchange(ref busy[device.Id], 1, 0) != 0)
            {
                ReleaseClaim(mesh, busy, k);
                throw new InvalidOperationException(
                    $"Device {device} is already running an SPMD region; nested or concurrent regions on the same devices are not supported. Use collectives inside the running region instead.");
            }
        }
    }

    private void ReleaseClaim(Mesh mesh, int[] busy, int count)
    {
        for (int k = 0; k < count; k++)
        {
            if (IsAddressable(mesh.Devices[k]))
            {
                Volatile.Write(ref busy[mesh.Devices[k].Id], 0);
            }
        }
    }

    /// <summary>Called when <see cref="CollectiveTimeout"/> changes, for a provider that applies it beyond its regions.</summary>
    /// <param name="timeout">The new timeout.</param>
    protected virtual void OnCollectiveTimeoutChanged(TimeSpan timeout)
    {
    }

    /// <summary>Runs a region. Arguments are already validated and the mesh's devices claimed.</summary>
    /// <param name="mesh">The mesh.</param>
    /// <param name="body">The body.</param>
    /// <param name="cancellationToken">Cancels the region: the caller's token, or the provider's disposal, whichever comes first.</param>
    /// <exception cref="NotSupportedException">Always, unless overridden.</exception>
    protected virtual void RunSpmdCore(Mesh mesh, Action<SpmdContext> body, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"The {Platform} provider does not run SPMD regions.");

    /// <summary>Reduces shards from the host. Arguments are already validated.</summary>
    /// <param name="array">The array.</param>
    /// <param name="mesh">Its mesh.</param>
    /// <param name="op">The reduction.</param>
    /// <param name="axisNames">The axes.</param>
    /// <exception cref="NotSupportedException">Always, unless overridden.</exception>
    protected virtual void AllReduceShardsCore(GlobalArray array, Mesh mesh, ReduceOp op, ReadOnlySpan<string> axisNames) =>
        throw new NotSupportedException($"The {Platform} provider has no host-issued collectives.");

    private readonly struct OperationsEnded(DeviceProvider provider) : IWaitCondition
    {
        public bool IsSatisfied() => Volatile.Read(ref provider._operations) == Closing;
    }
}
