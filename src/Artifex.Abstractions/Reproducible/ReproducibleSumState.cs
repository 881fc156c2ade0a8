namespace Artifex;

/// <summary>
/// Per-element reproducible accumulators on one device (3 doubles per element, scheme <see cref="ReproducibleSum.Version"/>):
/// deposit contributions, merge states (locally or across an axis), and round once at the end. The result depends only on
/// the multiset of deposited values.
/// </summary>
/// <remarks>
/// For gradients that are identical for any device count, deposit the gradient of each fixed-size microbatch (computed
/// at the same shape everywhere), then <see cref="AllReduce"/> over the data axis, then <see cref="Finalize"/> with
/// scale 1/(global microbatch count). A state uses 6× the memory of the float values it sums.
/// </remarks>
public sealed class ReproducibleSumState : IDisposable
{
    private readonly DeviceBuffer _buffer;

    private ReproducibleSumState(DeviceBuffer buffer, long length)
    {
        _buffer = buffer;
        Length = length;
    }

    /// <summary>Gets the device the state lives on.</summary>
    public Device Device => _buffer.Device;

    /// <summary>Gets the number of elements.</summary>
    public long Length { get; }

    /// <summary>Gets the contributions per element so far, summed over merges (at most <see cref="ReproducibleSum.MaxDeposits"/>).</summary>
    public long DepositCount { get; private set; }

    /// <summary>Gets the state's buffer: 3·<see cref="Length"/> doubles, level 0, then 1, then 2 (biased).</summary>
    public DeviceBuffer Buffer => _buffer;

    /// <summary>Allocates an empty state.</summary>
    /// <param name="device">The device.</param>
    /// <param name="length">The element count.</param>
    /// <returns>The state; dispose it.</returns>
    /// <exception cref="ArgumentException">The device has no provider.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative or too large.</exception>
    public static ReproducibleSumState Create(Device device, long length)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, long.MaxValue / 24);
        DeviceProvider provider = device.Provider ?? throw new ArgumentException($"{device} has no provider.", nameof(device));
        DeviceBuffer buffer = provider.Allocate<double>(device, 3 * length);
        try
        {
            provider.Kernels.ReproducibleReset(buffer);
            return new ReproducibleSumState(buffer, length);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Empties the state.</summary>
    public void Reset()
    {
        Kernels.ReproducibleReset(_buffer);
        DepositCount = 0;
    }

    /// <summary>Deposits one contribution per element.</summary>
    /// <param name="values">Length Single or Half values on the same device, |x| ≤ 2^30.</param>
    /// <exception cref="ArgumentException">A value is outside the window (named with its index), or the buffer does not fit. The state is unchanged.</exception>
    /// <exception cref="InvalidOperationException">The state already holds <see cref="ReproducibleSum.MaxDeposits"/> contributions.</exception>
    public void Deposit(DeviceBuffer values)
    {
        ArgumentNullException.ThrowIfNull(values);
        RequireRoom(1);
        Kernels.ReproducibleDeposit(_buffer, values);
        DepositCount++;
    }

    /// <summary>Merges another state of the same length and device into this one, exactly.</summary>
    /// <param name="other">The other state; unchanged.</param>
    /// <exception cref="ArgumentException">The states do not fit.</exception>
    /// <exception cref="InvalidOperationException">Together they would exceed <see cref="ReproducibleSum.MaxDeposits"/>.</exception>
    public void Merge(ReproducibleSumState other)
    {
        ArgumentNullException.ThrowIfNull(other);
        RequireRoom(other.DepositCount);
        Kernels.ReproducibleMerge(_buffer, other._buffer);
        DepositCount += other.DepositCount;
    }

    /// <summary>
    /// Inside an SPMD region: merges every participant's state over an axis, exactly, and leaves the merged state on each
    /// participant (biases removed, a plain Double sum of exact multiples of each level's unit, biases restored).
    /// </summary>
    /// <param name="axisName">The axis.</param>
    /// <exception cref="InvalidOperationException">Outside a region that binds the axis; or the merged count would exceed <see cref="ReproducibleSum.MaxDeposits"/>.</exception>
    public void AllReduce(string axisName)
    {
        ArgumentNullException.ThrowIfNull(axisName);
        _ = Collectives.AxisSize(axisName);
        long total;
        using (DeviceArray<long> count = DeviceArray.FromHost(Device, (HostArray<long>)HostArray.Scalar(DepositCount)))
        {
            Collectives.AllReduceInPlace(count, ReduceOp.Sum, axisName);
            total = count.ToArray()[0];
        }

        if (total > ReproducibleSum.MaxDeposits)
        {
            throw new InvalidOperationException(
                $"Merging over axis '{axisName}' gives {total} contributions per element; {ReproducibleSum.Version} allows {ReproducibleSum.MaxDeposits}.");
        }

        using DeviceArray<double> view = DeviceArray.View<double>(_buffer, _buffer.Length);
        Kernels.ReproducibleSetBias(_buffer, biased: false);
        try
        {
            Collectives.AllReduceInPlace(view, ReduceOp.Sum, axisName);
        }
        finally
        {
            Kernels.ReproducibleSetBias(_buffer, biased: true);
        }

        DepositCount = total;
    }

    /// <summary>Rounds the sums once into <paramref name="output"/>.</summary>
    /// <param name="output">Length Single or Half elements on the same device.</param>
    /// <param name="scale">1 for a sum; for a mean, 1/(global contribution count) — applied in double before the one rounding.</param>
    /// <exception cref="ArgumentException">The output does not fit.</exception>
    public void Finalize(DeviceBuffer output, double scale = 1.0) => Kernels.ReproducibleFinalize(_buffer, output, scale);

    /// <inheritdoc/>
    public void Dispose() => _buffer.Dispose();

    private DeviceKernels Kernels => _buffer.Provider.Kernels;

    private void RequireRoom(long more)
    {
        ObjectDisposedException.ThrowIf(_buffer.IsDisposed, this);
        if (DepositCount + more > ReproducibleSum.MaxDeposits)
        {
            throw new InvalidOperationException(
                $"The state holds {DepositCount} contributions per element; {ReproducibleSum.Version} allows {ReproducibleSum.MaxDeposits} (more could leave a level's exact range).");
        }
    }
}
