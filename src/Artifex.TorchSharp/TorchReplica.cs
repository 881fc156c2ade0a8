using TorchSharp;

namespace Artifex.TorchSharp;

/// <summary>
/// One replica inside <see cref="TorchDataParallel{TModule}.Run"/>: the module on this device, the device, and the
/// operations that reach the other replicas.
/// </summary>
/// <typeparam name="TModule">The module type.</typeparam>
public sealed class TorchReplica<TModule>
    where TModule : torch.nn.Module
{
    private readonly TorchDataParallel<TModule> _owner;

    internal TorchReplica(TorchDataParallel<TModule> owner, SpmdContext context, TModule module, int localIndex)
    {
        _owner = owner;
        Context = context;
        Module = module;
        LocalIndex = localIndex;
        TorchDevice = TorchDevices.ToTorch(context.Device);
    }

    /// <summary>Gets this device's replica of the module.</summary>
    public TModule Module { get; }

    /// <summary>Gets the replica's index in <see cref="TorchDataParallel{TModule}.Replicas"/> (this process's replicas): where its optimizer goes.</summary>
    public int LocalIndex { get; }

    /// <summary>Gets the SPMD context of this replica's participant (collectives, axis indices, cancellation).</summary>
    public SpmdContext Context { get; }

    /// <summary>Gets the Artifex device the replica runs on.</summary>
    public Device Device => Context.Device;

    /// <summary>Gets the libtorch device holding the replica's tensors.</summary>
    public torch.Device TorchDevice { get; }

    /// <summary>Gets this replica's index along the data axis (its rank among the replicas).</summary>
    public int Rank => Context.AxisIndex(_owner.AxisName);

    /// <summary>Gets the number of replicas along the data axis, over every process.</summary>
    public int ReplicaCount => Context.AxisSize(_owner.AxisName);

    /// <summary>
    /// Takes this replica's rows of a global batch: rows <c>Rank·n/R … (Rank+1)·n/R</c> of dimension 0, as
    /// <c>jax.device_put</c> with <c>P("data")</c> would give it (a view when the batch is already on this device, else a copy).
    /// </summary>
    /// <param name="batch">The global batch; every replica (and every process) passes the same one.</param>
    /// <returns>The rows. The caller disposes the tensor.</returns>
    /// <exception cref="ArgumentException">The batch has no rows dimension, or its rows do not divide evenly among the replicas (both sizes named).</exception>
    public torch.Tensor Shard(torch.Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(batch.IsInvalid, typeof(torch.Tensor));
        int count = ReplicaCount;
        long rows = batch.dim() == 0 ? -1 : batch.shape[0];
        if (rows < 0 || rows % count != 0)
        {
            throw new ArgumentException(
                $"A batch of shape {TorchText.Dims(batch.shape)} cannot be split over the {count} replicas of axis '{_owner.AxisName}': dimension 0 must be a multiple of {count}.",
                nameof(batch));
        }

        long each = rows / count;
        using torch.Tensor rowsOfThisReplica = batch.narrow(0, Rank * each, each);
        return rowsOfThisReplica.to(TorchDevice);
    }

    /// <summary>
    /// All-reduces every parameter's gradient to its mean over the replicas, in the gradients' own memory (PyTorch DDP's
    /// reduction after <c>backward()</c>), through DataParallel's buckets. Inside <see cref="TorchDataParallel{TModule}.NoSync"/>
    /// it does nothing, and the gradients keep accumulating locally.
    /// </summary>
    /// <exception cref="ArgumentException">The replicas hold different sets of gradients (named by the collectives' agreement check).</exception>
    public void SynchronizeGradients()
    {
        if (!_owner.SynchronizesGradients)
        {
            return;
        }

        _owner.AllReduceGradients(this);
    }

    /// <summary>Averages a tensor over the replicas (JAX <c>pmean</c>), e.g. a loss for reporting.</summary>
    /// <param name="value">A tensor on this replica's device, of the same shape and dtype on every replica.</param>
    /// <returns>A new tensor on this device holding the mean. The caller disposes it.</returns>
    public torch.Tensor Pmean(torch.Tensor value) => Reduce(value, ReduceOp.Mean);

    /// <summary>Sums a tensor over the replicas (JAX <c>psum</c>), e.g. correct predictions.</summary>
    /// <param name="value">A tensor on this replica's device, of the same shape and dtype on every replica.</param>
    /// <returns>A new tensor on this device holding the sum, added in rank order. The caller disposes it.</returns>
    public torch.Tensor Psum(torch.Tensor value) => Reduce(value, ReduceOp.Sum);

    /// <summary>The element-wise maximum of a tensor over the replicas (JAX <c>pmax</c>).</summary>
    /// <param name="value">A tensor on this replica's device, of the same shape and dtype on every replica.</param>
    /// <returns>A new tensor on this device. The caller disposes it.</returns>
    public torch.Tensor Pmax(torch.Tensor value) => Reduce(value, ReduceOp.Max);

    /// <summary>The element-wise minimum of a tensor over the replicas (JAX <c>pmin</c>).</summary>
    /// <param name="value">A tensor on this replica's device, of the same shape and dtype on every replica.</param>
    /// <returns>A new tensor on this device. The caller disposes it.</returns>
    public torch.Tensor Pmin(torch.Tensor value) => Reduce(value, ReduceOp.Min);

    /// <summary>
    /// Gathers a tensor from every replica, in rank order, stacked on a new dimension 0 (JAX <c>all_gather</c>), e.g.
    /// every replica's predictions.
    /// </summary>
    /// <param name="value">A tensor on this replica's device, of the same shape and dtype on every replica.</param>
    /// <returns>A new tensor of shape <c>[replicas, …]</c> on this device. The caller disposes it.</returns>
    public torch.Tensor AllGather(torch.Tensor value)
    {
        using torch.Tensor source = Detached(value);
        using DeviceArray view = source.AsDeviceArray(Device);
        using DeviceArray gathered = Collectives.AllGather(view, _owner.AxisName);
        torch.Tensor result = torch.empty([ReplicaCount, .. source.shape], source.dtype, TorchDevice);
        using DeviceArray target = result.AsDeviceArray(Device);
        Device.Provider!.Copy(gathered.Buffer, 0, target.Buffer, 0, target.Length);
        return result;
    }

    /// <summary>A new tensor on this device holding <paramref name="op"/> of <paramref name="value"/> over the replicas.</summary>
    private torch.Tensor Reduce(torch.Tensor value, ReduceOp op)
    {
        using torch.Tensor source = Detached(value);
        torch.Tensor result = source.clone();
        using DeviceArray view = result.AsDeviceArray(Device);
        Collectives.AllReduceInPlace(view, op, _owner.AxisName);
        return result;
    }

    /// <summary>The value without autograd history, contiguous (a copy only when it is not).</summary>
    private static torch.Tensor Detached(torch.Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        ObjectDisposedException.ThrowIf(value.IsInvalid, typeof(torch.Tensor));
        return value.detach().contiguous();
    }
}
