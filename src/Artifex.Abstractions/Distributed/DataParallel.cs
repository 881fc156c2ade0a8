namespace Artifex.Distributed;

/// <summary>
/// Data-parallel helpers: the port of artifex's <c>DataParallel</c>. Shard a batch over a mesh's data axis, replicate
/// or shard model state, and all-reduce gradients inside an SPMD region.
/// </summary>
/// <remarks>
/// Differences from the original, on purpose: the reduce type and the parameter layout are enums (the string overload
/// of <see cref="AllReduceGradients(Tree{DeviceArray}, string, string)"/> accepts exactly <c>"mean"</c> and
/// <c>"sum"</c>); rank-0 leaves (step counters) are replicated instead of failing; every leaf is checked before anything
/// is placed, and errors name the leaf's path; with the built-in collectives, gradients are reduced in buckets (as
/// PyTorch DDP does) with results bitwise identical to reducing leaf by leaf. The original derives from
/// <c>nnx.Module</c> and holds no state; this class holds only its collectives back-end and options.
/// </remarks>
/// <example>
/// Split a batch by rows over the data axis, and average per-device gradients inside a region:
/// <code>
/// var dataParallel = new DataParallel();
/// Mesh mesh = new DeviceMeshManager(provider).CreateDataParallelMesh();
/// Tree&lt;GlobalArray&gt; batch = dataParallel.ShardBatch(hostBatch, dataParallel.CreateDataParallelSharding(mesh));
/// provider.RunSpmd(mesh, context =>
/// {
///     Tree&lt;DeviceArray&gt; gradients = ComputeGradients(batch.LocalBlocks(context.Device));   // your backward pass
///     Tree&lt;DeviceArray&gt; mean = dataParallel.AllReduceGradients(gradients, ReduceOp.Mean, "data");
///     // ... the same update on every device, then dispose both trees
/// });
/// </code>
/// </example>
public sealed partial class DataParallel
{
    /// <summary>The default bucket size, as PyTorch DDP's: 25 MiB.</summary>
    public const long DefaultBucketSizeBytes = 25L * 1024 * 1024;

    private static readonly DataParallel s_default = new();

    private readonly ICollectives _collectives;

    /// <summary>Creates the helper with the real collectives of the current SPMD region.</summary>
    public DataParallel()
        : this(AmbientCollectives.Instance)
    {
    }

    /// <summary>Creates the helper with a collectives back-end (for tests, or another engine).</summary>
    /// <param name="collectives">The back-end, called once per leaf (bucketing applies only to <see cref="AmbientCollectives"/>).</param>
    /// <param name="bucketSizeBytes">The bucket size for gradient all-reduce; 0 reduces leaf by leaf.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bucketSizeBytes"/> is negative.</exception>
    public DataParallel(ICollectives collectives, long bucketSizeBytes = DefaultBucketSizeBytes)
    {
        ArgumentNullException.ThrowIfNull(collectives);
        ArgumentOutOfRangeException.ThrowIfNegative(bucketSizeBytes);
        _collectives = collectives;
        BucketSizeBytes = bucketSizeBytes;
    }

    /// <summary>Gets the bucket size for gradient all-reduce in bytes; 0 means leaf by leaf.</summary>
    public long BucketSizeBytes { get; }

    /// <summary>Creates the sharding that splits dimension 0 over the data axis (artifex <c>create_data_parallel_sharding</c>).</summary>
    /// <param name="mesh">The mesh.</param>
    /// <param name="dataAxis">The mesh axis to split over.</param>
    /// <returns><c>NamedSharding(mesh, P(dataAxis))</c>.</returns>
    /// <exception cref="ArgumentException">The mesh has no such axis (JAX's "Resource axis: … is not found in mesh" text).</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "Mirrors an instance method of artifex's DataParallel; the static twin exists separately.")]
    public NamedSharding CreateDataParallelSharding(Mesh mesh, string dataAxis = "data")
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentNullException.ThrowIfNull(dataAxis);
        return new NamedSharding(mesh, new PartitionSpec(dataAxis));
    }

    /// <summary>Places every leaf of a batch with one sharding (artifex <c>shard_batch</c>).</summary>
    /// <param name="batch">The host batch; leaves may have different element types. Empty nodes stay empty; dict keys are sorted.</param>
    /// <param name="sharding">The sharding, usually from <see cref="CreateDataParallelSharding"/>.</param>
    /// <returns>The placed batch. The caller owns its arrays (<see cref="Tree.DisposeLeaves{T}"/>).</returns>
    /// <exception cref="ArgumentException">A leaf's dimension 0 is not divisible by the split (JAX's text plus the leaf path). Every leaf is checked before anything is placed.</exception>
    /// <remarks>Rank-0 leaves are replicated (the original fails on them).</remarks>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "Mirrors an instance method of artifex's DataParallel; the static twin exists separately.")]
    public Tree<GlobalArray> ShardBatch(Tree<HostArray> batch, Sharding sharding)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(sharding);
        return batch.DevicePut((_, leaf) => leaf.Rank == 0 ? Replicated(sharding) : sharding);
    }

    /// <summary>Places model state (parameters, optimizer moments, step counters) on a mesh (artifex <c>shard_model_state</c>).</summary>
    /// <param name="state">The host state tree.</param>
    /// <param name="mesh">The mesh.</param>
    /// <param name="paramSharding"><see cref="ParamSharding.Replicate"/> (default) or <see cref="ParamSharding.Shard"/> (dimension 0 over the first mesh axis).</param>
    /// <returns>The placed state. The caller owns its arrays.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="paramSharding"/> is not a defined value.</exception>
    /// <exception cref="ArgumentException">In <see cref="ParamSharding.Shard"/> mode, a leaf's dimension 0 is not divisible by the first axis (naming the path).</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "Mirrors an instance method of artifex's DataParallel; the static twin exists separately.")]
    public Tree<GlobalArray> ShardModelState(Tree<HostArray> state, Mesh mesh, ParamSharding paramSharding = ParamSharding.Replicate)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(mesh);
        var replicated = new NamedSharding(mesh, PartitionSpec.Replicated);
        switch (paramSharding)
        {
            case ParamSharding.Replicate:
                return state.DevicePut(replicated);
            case ParamSharding.Shard:
                NamedSharding sharded = mesh.Rank == 0 ? replicated : new NamedSharding(mesh, new PartitionSpec(mesh.AxisNames[0]));
                return state.DevicePut((_, leaf) => leaf.Rank == 0 ? replicated : sharded);
            default:
                throw new ArgumentOutOfRangeException(nameof(paramSharding), paramSharding, "Use ParamSharding.Replicate or ParamSharding.Shard.");
        }
    }

    /// <summary>Replicates parameters on every device of a mesh (artifex <c>replicate_params</c>).</summary>
    /// <param name="parameters">The host parameters.</param>
    /// <param name="mesh">The mesh.</param>
    /// <returns>The placed parameters. The caller owns their arrays.</returns>
    public Tree<GlobalArray> ReplicateParams(Tree<HostArray> parameters, Mesh mesh) => ShardModelState(parameters, mesh, ParamSharding.Replicate);

    /// <summary>All-reduces gradients over an axis, inside an SPMD region (artifex <c>all_reduce_gradients</c>).</summary>
    /// <param name="gradients">This participant's gradients.</param>
    /// <param name="reduceType"><see cref="ReduceOp.Mean"/> (default: the sum in rank order divided by the axis size) or <see cref="ReduceOp.Sum"/>.</param>
    /// <param name="axisName">The axis to reduce over; note the default <c>"batch"</c> differs from the mesh default <c>"data"</c>, as in the original.</param>
    /// <returns>New arrays of the reduced gradients, same structure; the caller owns them. An empty tree is returned as is.</returns>
    /// <exception cref="ArgumentException"><paramref name="reduceType"/> is Max or Min: "Unsupported reduce_type: … Use 'mean' or 'sum'." (checked first, even outside a region).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="reduceType"/> is not a defined value.</exception>
    /// <exception cref="InvalidOperationException">Called outside an SPMD region that binds <paramref name="axisName"/> ("unbound axis name: …").</exception>
    public Tree<DeviceArray> AllReduceGradients(Tree<DeviceArray> gradients, ReduceOp reduceType = ReduceOp.Mean, string axisName = "batch")
    {
        ArgumentNullException.ThrowIfNull(gradients);
        ArgumentNullException.ThrowIfNull(axisName);
        ValidateGradientReduceType(reduceType);
        if (gradients.LeafCount == 0)
        {
            return gradients;
        }

        return BucketSizeBytes > 0
            ? GradientBuckets.AllReduce(_collectives, gradients, reduceType, axisName, BucketSizeBytes)
            : MapOwned(gradients, leaf => reduceType == ReduceOp.Mean ? _collectives.Pmean(leaf, axisName) : _collectives.Psum(leaf, axisName));
    }

    /// <summary>
    /// All-reduces gradients over an axis in their own memory, inside an SPMD region: the bits <see cref="AllReduceGradients(Tree{DeviceArray}, ReduceOp, string)"/>
    /// returns, without new arrays (a leaf larger than a bucket is reduced in place; smaller ones share a bucket buffer
    /// for the collective).
    /// </summary>
    /// <param name="gradients">This participant's gradients; they receive the result.</param>
    /// <param name="reduceType"><see cref="ReduceOp.Mean"/> (default) or <see cref="ReduceOp.Sum"/>.</param>
    /// <param name="axisName">The axis to reduce over.</param>
    /// <exception cref="ArgumentException"><paramref name="reduceType"/> is Max or Min (checked first, even outside a region).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="reduceType"/> is not a defined value.</exception>
    /// <exception cref="InvalidOperationException">Called outside an SPMD region that binds <paramref name="axisName"/>.</exception>
    public void AllReduceGradientsInPlace(Tree<DeviceArray> gradients, ReduceOp reduceType = ReduceOp.Mean, string axisName = "batch")
    {
        ArgumentNullException.ThrowIfNull(gradients);
        ArgumentNullException.ThrowIfNull(axisName);
        ValidateGradientReduceType(reduceType);
        if (gradients.LeafCount > 0)
        {
            GradientBuckets.AllReduceInPlace(_collectives, gradients, reduceType, axisName, BucketSizeBytes);
        }
    }

    /// <summary>
    /// Creates a <see cref="GradientReducer"/> for one device's gradients: buckets in reverse registration order whose
    /// all-reduces start while the backward pass goes on (PyTorch DDP's reducer). Create it once per device, outside or
    /// inside a region, and use it every step inside the regions.
    /// </summary>
    /// <param name="gradients">One device's gradient arrays, in the parameters' tree order; with <see cref="GradientReducerOptions.GradientsAsBucketViews"/> they only give the shapes.</param>
    /// <param name="axisName">The axis to reduce over.</param>
    /// <param name="options">Bucket sizes, reduction, compression and views; by default this helper's bucket size, a mean, no compression, the caller's own arrays.</param>
    /// <returns>The reducer; the caller disposes it.</returns>
    /// <exception cref="ArgumentException">The tree is empty, its leaves are on different devices, a leaf is not Single under Half compression (naming the leaf's path), or the reduce type is Max or Min.</exception>
    /// <exception cref="NotSupportedException">The provider cannot make views of part of a buffer, or Half compression on a provider that cannot reduce Half across its processes (MPI in several processes).</exception>
    public GradientReducer CreateGradientReducer(Tree<DeviceArray> gradients, string axisName = "batch", GradientReducerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        ArgumentNullException.ThrowIfNull(axisName);
        return new GradientReducer(_collectives, gradients, axisName, options ?? new GradientReducerOptions { BucketSizeBytes = BucketSizeBytes });
    }

    /// <summary>Only a mean or a sum makes sense for gradients; the original's text for anything else.</summary>
    private static void ValidateGradientReduceType(ReduceOp reduceType)
    {
        if (reduceType is < ReduceOp.Mean or > ReduceOp.Min)
        {
            throw new ArgumentOutOfRangeException(nameof(reduceType), reduceType, "Undefined reduce op.");
        }

        if (reduceType is not (ReduceOp.Mean or ReduceOp.Sum))
        {
            throw new ArgumentException(UnsupportedReduceType(reduceType.ToString()), nameof(reduceType));
        }
    }

    /// <summary>
    /// All-reduces gradients with a choice of <see cref="Determinism"/>. <see cref="Determinism.Reproducible"/> reduces each
    /// Single or Half leaf with the reproducible collective (scheme <see cref="ReproducibleSum.Version"/>): the result depends
    /// only on the multiset of the participants' values. For results identical for any device count, accumulate
    /// fixed-size microbatch gradients in a <see cref="ReproducibleSumState"/> instead (see its remarks).
    /// </summary>
    /// <param name="gradients">This participant's gradients.</param>
    /// <param name="reduceType">Mean or Sum.</param>
    /// <param name="axisName">The axis to reduce over.</param>
    /// <param name="determinism">The bitwise promise.</param>
    /// <returns>New arrays of the reduced gradients; the caller owns them.</returns>
    /// <exception cref="NotSupportedException">Reproducible with Double leaves.</exception>
    /// <exception cref="ArgumentException">Max or Min; or, when reproducible, a gradient element outside the window (named).</exception>
    public Tree<DeviceArray> AllReduceGradients(Tree<DeviceArray> gradients, ReduceOp reduceType, string axisName, Determinism determinism)
    {
        if (determinism == Determinism.RankOrdered)
        {
            return AllReduceGradients(gradients, reduceType, axisName);
        }

        ArgumentNullException.ThrowIfNull(gradients);
        ArgumentNullException.ThrowIfNull(axisName);
        if (reduceType is not (ReduceOp.Mean or ReduceOp.Sum))
        {
            throw new ArgumentException(UnsupportedReduceType(reduceType.ToString()), nameof(reduceType));
        }

        return MapOwned(gradients, leaf =>
        {
            DeviceArray reduced = leaf.Clone();
            try
            {
                _collectives.AllReduceInPlace(reduced, reduceType, axisName, determinism);
                return reduced;
            }
            catch
            {
                reduced.Dispose();
                throw;
            }
        });
    }

    /// <summary>All-reduces gradients with the reduce type given as artifex's string.</summary>
    /// <param name="gradients">This participant's gradients.</param>
    /// <param name="reduceType">Exactly <c>"mean"</c> or <c>"sum"</c>.</param>
    /// <param name="axisName">The axis to reduce over.</param>
    /// <returns>New arrays of the reduced gradients; the caller owns them.</returns>
    /// <exception cref="ArgumentException">Any other string: "Unsupported reduce_type: {x}. Use 'mean' or 'sum'."</exception>
    public Tree<DeviceArray> AllReduceGradients(Tree<DeviceArray> gradients, string reduceType, string axisName = "batch") =>
        AllReduceGradients(gradients, ParseReduceType(reduceType), axisName);

    /// <summary>
    /// The weighted mean of gradients for unequal per-device batches: <c>Σ nᵢ·gᵢ / Σ nᵢ</c> over the axis, so the result
    /// equals the gradient of the mean loss over the global batch (a plain mean of per-device means is biased when the
    /// batch sizes differ). Each participant passes its own weight, usually its local batch size.
    /// </summary>
    /// <param name="gradients">This participant's gradients (the mean over its own samples). Single or Double leaves.</param>
    /// <param name="weight">This participant's weight (its sample count); finite and not negative.</param>
    /// <param name="axisName">The axis to reduce over.</param>
    /// <returns>New arrays the caller owns.</returns>
    /// <remarks>
    /// Computed as: every element scaled by the participant's weight, summed in rank order (the same deterministic
    /// collective), then divided once by the rank-order sum of the weights.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="weight"/> is negative, NaN or infinite.</exception>
    /// <exception cref="InvalidOperationException">Outside a region that binds the axis, or the weights sum to zero.</exception>
    public Tree<DeviceArray> AllReduceGradientsWeighted(Tree<DeviceArray> gradients, double weight, string axisName = "batch")
    {
        ArgumentNullException.ThrowIfNull(gradients);
        ArgumentNullException.ThrowIfNull(axisName);
        if (!double.IsFinite(weight) || weight < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(weight), weight, "A weight is a finite, non-negative sample count.");
        }

        _ = _collectives.AxisSize(axisName);
        if (gradients.LeafCount == 0)
        {
            return gradients;
        }

        DeviceArray first = gradients.Leaves()[0];
        DeviceProvider provider = first.Buffer.Provider;
        double total;
        using (DeviceArray<double> w = DeviceArray.FromHost(first.Device, (HostArray<double>)HostArray.Scalar(weight)))
        {
            _collectives.AllReduceInPlace(w, ReduceOp.Sum, axisName, Determinism.RankOrdered);
            total = w.ToArray()[0];
        }

        if (total <= 0)
        {
            throw new InvalidOperationException($"The weights over axis '{axisName}' sum to zero, so their weighted mean is undefined.");
        }

        return MapOwned(gradients, leaf =>
        {
            DeviceArray scaled = leaf.Clone();
            try
            {
                provider.Kernels.Scale(weight, scaled.Buffer);
                _collectives.AllReduceInPlace(scaled, ReduceOp.Sum, axisName, Determinism.RankOrdered);
                provider.Kernels.Divide(scaled.Buffer, total);
                return scaled;
            }
            catch
            {
                scaled.Dispose();
                throw;
            }
        });
    }

    internal static string UnsupportedReduceType(string? reduceType) => $"Unsupported reduce_type: {reduceType ?? "None"}. Use 'mean' or 'sum'.";

    internal static ReduceOp ParseReduceType(string? reduceType) => reduceType switch
    {
        "mean" => ReduceOp.Mean,
        "sum" => ReduceOp.Sum,
        _ => throw new ArgumentException(UnsupportedReduceType(reduceType), nameof(reduceType)),
    };

    /// <summary>Maps leaves to new arrays; if one call fails, the arrays made so far are freed before the error propagates.</summary>
    internal static Tree<DeviceArray> MapOwned(Tree<DeviceArray> tree, Func<DeviceArray, DeviceArray> selector)
    {
        var made = new List<DeviceArray>(tree.LeafCount);
        try
        {
            return tree.Map(leaf =>
            {
                DeviceArray result = selector(leaf);
                made.Add(result);
                return result;
            });
        }
        catch
        {
            foreach (DeviceArray array in made)
            {
                array.Dispose();
            }

            throw;
        }
    }

    private static NamedSharding Replicated(Sharding sharding) => sharding switch
    {
        NamedSharding named => new NamedSharding(named.Mesh, PartitionSpec.Replicated),
        _ => throw new ArgumentException($"Rank-0 leaves are replicated, which needs a NamedSharding, not {sharding}.", nameof(sharding)),
    };
}
