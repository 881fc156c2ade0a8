using Artifex.Cuda;
using Artifex.Distributed;
using TorchSharp;

namespace Artifex.TorchSharp;

/// <summary>
/// Data-parallel training of a TorchSharp module, as PyTorch's <c>DistributedDataParallel</c>: one replica per device of
/// the mesh (this process's devices), parameters and buffers copied from replica 0 at the start, each replica's step run
/// on its device's thread, and gradients all-reduced to their mean in place when the step asks for it.
/// </summary>
/// <typeparam name="TModule">The module type.</typeparam>
/// <remarks>
/// <para>
/// Works on every provider: N emulated devices of the CPU provider in one process, the MPI provider under <c>mpirun</c>
/// (each process builds the replicas of its own devices), and CUDA (the replicas' tensors on their GPUs). On CPU devices
/// the results are the same bits run after run for a fixed device count and <see cref="TorchDataParallelOptions.ThreadsPerReplica"/>
/// (libtorch's own results depend on its thread count; the default divides this machine's cores, so set it to repeat
/// bits across machines), and the all-reduce combines replicas in rank order.
/// </para>
/// <para>
/// Each replica has its own optimizer (create one per <see cref="Replicas"/> entry): after the all-reduce every replica
/// holds the same gradients, so identical optimizers keep identical parameters.
/// </para>
/// </remarks>
/// <example>
/// Two emulated CPU devices, each training on half of every batch:
/// <code>
/// using var provider = new CpuProvider(deviceCount: 2);
/// using var ddp = new TorchDataParallel&lt;Sequential&gt;(
///     new Mesh(provider.Devices, ("data", 2)),
///     device => Sequential(Linear(784, 128), ReLU(), Linear(128, 10)).to(TorchDevices.ToTorch(device)));
/// optim.Optimizer[] optimizers = [.. ddp.Replicas.Select(m => optim.Adam(m.parameters()))];
/// ddp.Run(replica =>
/// {
///     using var scope = NewDisposeScope();
///     Tensor loss = functional.cross_entropy(replica.Module.forward(replica.Shard(images)), replica.Shard(labels));
///     optimizers[replica.LocalIndex].zero_grad();
///     loss.backward();
///     replica.SynchronizeGradients();
///     optimizers[replica.LocalIndex].step();
/// });
/// </code>
/// </example>
public sealed class TorchDataParallel<TModule> : IDisposable
    where TModule : torch.nn.Module
{
    [ThreadStatic]
    private static int s_threadsOfThisThread;

    private readonly DeviceProvider _provider;
    private readonly TModule?[] _byPosition;
    private readonly DataParallel _dataParallel;
    private readonly int _threadsPerReplica;
    private int _noSync;
    private bool _disposed;

    /// <summary>Creates one replica per device of this process in <paramref name="mesh"/> and copies replica 0's parameters and buffers to all.</summary>
    /// <param name="mesh">The mesh; <paramref name="axisName"/> is the data axis. Other axes (if any) are left to the caller.</param>
    /// <param name="createReplica">Builds the module for a device, with its parameters on <see cref="TorchDevices.ToTorch"/> of that device. Called once per local device, in mesh order.</param>
    /// <param name="axisName">The data axis.</param>
    /// <param name="options">Threads per replica and bucket size; defaults when null.</param>
    /// <exception cref="ArgumentException">The mesh has no such axis or no device of this process, a replica is null or has a parameter on another device, or the replicas differ in parameters (name, shape or dtype).</exception>
    public TorchDataParallel(Mesh mesh, Func<Device, TModule> createReplica, string axisName = "data", TorchDataParallelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentNullException.ThrowIfNull(createReplica);
        ArgumentException.ThrowIfNullOrEmpty(axisName);
        options ??= new TorchDataParallelOptions();
        if (!mesh.AxisNames.Contains(axisName, StringComparer.Ordinal))
        {
            throw new ArgumentException($"{mesh} has no axis '{axisName}'.", nameof(axisName));
        }

        _provider = mesh.Devices[0].Provider ?? throw new ArgumentException($"The devices of {mesh} belong to no provider.", nameof(mesh));
        Mesh = mesh;
        AxisName = axisName;
        _dataParallel = new DataParallel(AmbientCollectives.Instance, options.BucketSizeBytes);
        _byPosition = new TModule?[mesh.Size];
        var local = new List<TModule>();
        for (int k = 0; k < mesh.Size; k++)
        {
            Device device = mesh.Devices[k];
            if (!_provider.IsAddressable(device))
            {
                continue;
            }

            TModule replica = createReplica(device) ?? throw new ArgumentException($"The replica factory returned null for device {device}.", nameof(createReplica));
            RequireParametersOn(replica, device, nameof(createReplica));
            _byPosition[k] = replica;
            local.Add(replica);
        }

        if (local.Count == 0)
        {
            throw new ArgumentException($"{mesh} has no device of process {_provider.ProcessIndex}.", nameof(mesh));
        }

        Replicas = local;
        RequireSameParameters(local, [.. mesh.Devices.Where(_provider.IsAddressable)], nameof(createReplica));
        _threadsPerReplica = options.ThreadsPerReplica ?? Math.Max(1, Environment.ProcessorCount / local.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(_threadsPerReplica, 1, nameof(options));
        BroadcastFromReplicaZero();
    }

    /// <summary>Gets the mesh.</summary>
    public Mesh Mesh { get; }

    /// <summary>Gets the data axis.</summary>
    public string AxisName { get; }

    /// <summary>Gets this process's replicas, in mesh order (index <see cref="TorchReplica{TModule}.LocalIndex"/>).</summary>
    public IReadOnlyList<TModule> Replicas { get; }

    /// <summary>Gets whether <see cref="TorchReplica{TModule}.SynchronizeGradients"/> reduces now (false inside <see cref="NoSync"/>).</summary>
    internal bool SynchronizesGradients => Volatile.Read(ref _noSync) == 0;

    /// <summary>Runs <paramref name="step"/> once per replica, each on its device's thread, and returns when all have.</summary>
    /// <param name="step">One training step (or evaluation) of one replica.</param>
    /// <param name="cancellationToken">Cancels the region (see <see cref="DeviceProvider.RunSpmd(Mesh, Action{SpmdContext}, CancellationToken)"/>).</param>
    /// <exception cref="ObjectDisposedException">The wrapper has been disposed.</exception>
    public void Run(Action<TorchReplica<TModule>> step, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(step);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _provider.RunSpmd(
            Mesh,
            context =>
            {
                // libtorch keeps its intra-op thread count per thread: set it on each device thread, once.
                if (s_threadsOfThisThread != _threadsPerReplica)
                {
                    torch.set_num_threads(_threadsPerReplica);
                    s_threadsOfThisThread = _threadsPerReplica;
                }

                step(new TorchReplica<TModule>(this, context, _byPosition[context.DeviceIndex]!, LocalIndexOf(context.DeviceIndex)));
            },
            cancellationToken);
    }

    /// <summary>
    /// Starts a scope in which <see cref="TorchReplica{TModule}.SynchronizeGradients"/> does nothing, so that gradients
    /// accumulate locally over several steps (PyTorch DDP's <c>no_sync</c>); the first synchronisation after the scope
    /// reduces the sum. After K steps whose losses are means over equal micro-batches, the result is K times the
    /// gradient of the mean loss over all replicas' K micro-batches (divide each loss by K for that gradient itself), up
    /// to the rounding of a different summation order.
    /// </summary>
    /// <returns>The scope; dispose it to synchronise again.</returns>
    /// <exception cref="InvalidOperationException">Called from inside <see cref="Run"/>: the scope is the host's, around runs.</exception>
    public IDisposable NoSync()
    {
        if (SpmdContext.Current is not null)
        {
            throw new InvalidOperationException("NoSync() is called around Run(...), outside the replicas' steps, so that every replica skips the same synchronisations.");
        }

        Interlocked.Increment(ref _noSync);
        return new NoSyncScope(this);
    }

    /// <summary>Disposes this process's replicas.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (TModule replica in Replicas)
        {
            replica.Dispose();
        }
    }

    /// <summary>The mean of every gradient over the replicas, written back into the gradients' memory.</summary>
    internal void AllReduceGradients(TorchReplica<TModule> replica)
    {
        var gradients = new List<torch.Tensor>();
        var views = new List<DeviceArray>();
        try
        {
            foreach ((string _, global::TorchSharp.Modules.Parameter parameter) in replica.Module.named_parameters())
            {
                torch.Tensor? gradient = parameter.grad;
                if (gradient is not null)
                {
                    gradients.Add(gradient);
                    views.Add(gradient.AsDeviceArray(replica.Device));
                }
            }

            SynchronizeTorch(replica.TorchDevice);
            _dataParallel.AllReduceGradientsInPlace(Tree.List(views.Select(static v => Tree.Leaf(v))), ReduceOp.Mean, AxisName);
            SynchronizeArtifex();
        }
        finally
        {
            views.ForEach(static v => v.Dispose());
            gradients.ForEach(static g => g.Dispose());
        }
    }

    private void BroadcastFromReplicaZero()
    {
        _provider.RunSpmd(Mesh, context =>
        {
            TModule module = _byPosition[context.DeviceIndex]!;
            AxisGroup group = context.GetAxisGroup(AxisName);
            torch.Device torchDevice = TorchDevices.ToTorch(context.Device);
            SynchronizeTorch(torchDevice);
            foreach (torch.Tensor tensor in module.parameters().Concat<torch.Tensor>(module.buffers()))
            {
                using DeviceArray view = tensor.AsDeviceArray(context.Device);
                context.Broadcast(view, view, root: 0, group);
            }

            SynchronizeArtifex();
        });
    }

    private int LocalIndexOf(int position)
    {
        int index = 0;
        for (int k = 0; k < position; k++)
        {
            index += _byPosition[k] is null ? 0 : 1;
        }

        return index;
    }

    /// <summary>libtorch's CUDA work on the tensors must be done before a collective reads them (a no-op on the CPU).</summary>
    private static void SynchronizeTorch(torch.Device device)
    {
        if (device.type == DeviceType.CUDA)
        {
            torch.cuda.synchronize(device);
        }
    }

    /// <summary>Ours must be done before libtorch uses the tensors again (a no-op on CPU providers, which finish before returning).</summary>
    private void SynchronizeArtifex()
    {
        if (_provider is CudaProvider cuda)
        {
            cuda.Synchronize();
        }
    }

    private static void RequireParametersOn(TModule replica, Device device, string paramName)
    {
        torch.Device expected = TorchDevices.ToTorch(device);
        foreach ((string name, global::TorchSharp.Modules.Parameter parameter) in replica.named_parameters())
        {
            if (parameter.device_type != expected.type || (expected.type == DeviceType.CUDA && parameter.device_index != expected.index))
            {
                throw new ArgumentException($"The replica for device {device} has parameter '{name}' on {parameter.device}, not {expected}: build it with .to(TorchDevices.ToTorch(device)).", paramName);
            }
        }
    }

    private static void RequireSameParameters(List<TModule> replicas, Device[] devices, string paramName)
    {
        string[] first = Describe(replicas[0]);
        for (int i = 1; i < replicas.Count; i++)
        {
            string[] other = Describe(replicas[i]);
            if (!first.SequenceEqual(other, StringComparer.Ordinal))
            {
                string differs = first.Zip(other).Where(static p => !string.Equals(p.First, p.Second, StringComparison.Ordinal)).Select(static p => $"{p.First} vs {p.Second}").FirstOrDefault()
                    ?? $"{first.Length} vs {other.Length} parameters";
                throw new ArgumentException($"The replicas for {devices[0]} and {devices[i]} differ: {differs}. Every replica must be the same model.", paramName);
            }
        }
    }

    private static string[] Describe(TModule module) =>
        [.. module.named_parameters().Select(static p => $"'{p.name}' {p.parameter.dtype}{TorchText.Dims(p.parameter.shape)}")];

    private sealed class NoSyncScope(TorchDataParallel<TModule> owner) : IDisposable
    {
        private int _ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                Interlocked.Decrement(ref owner._noSync);
            }
        }
    }
}
