namespace Artifex;

// The kernels behind <see cref="ReproducibleSumState"/> (scheme <see cref="ReproducibleSum.Version"/>).
public abstract partial class DeviceKernels
{
    /// <summary>Empties a reproducible-sum state: every accumulator back to its level's bias (which is zero, not zero bytes).</summary>
    /// <param name="state">A Double buffer of 3·n elements: the n accumulators of level 0, then level 1, then level 2.</param>
    /// <exception cref="ArgumentException">The buffer is not Double, its length is not a multiple of 3, or it belongs to another provider.</exception>
    /// <exception cref="ObjectDisposedException">The provider or the buffer has been disposed.</exception>
    public void ReproducibleReset(DeviceBuffer state)
    {
        CheckState(state, null, nameof(state));
        ReproducibleResetCore(state);
    }

    /// <summary>Deposits one contribution per element: <c>state[i] ⊕= values[i]</c>, exactly.</summary>
    /// <param name="state">The state, 3·n doubles.</param>
    /// <param name="values">n Single or Half values, each with |x| ≤ <see cref="ReproducibleSum.MaxMagnitude"/> (NaN allowed: it propagates).</param>
    /// <exception cref="ArgumentException">A buffer does not fit; or a value is ±Inf or larger than 2^30 in magnitude — the message names its index and value, and the state is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    public void ReproducibleDeposit(DeviceBuffer state, DeviceBuffer values)
    {
        Device device = CheckState(state, null, nameof(state));
        CheckReproducibleValues(values, state.Length / 3, device, nameof(values));
        long outside = ReproducibleFindOutsideWindowCore(values);
        if (outside >= 0)
        {
            throw new ArgumentException(ErrorMessages.OutsideReproducibleWindow("values", outside, ReadValue(values, outside)), nameof(values));
        }

        ReproducibleDepositCore(state, values);
    }

    /// <summary>Finds the first value that a reproducible sum cannot take: ±Inf, or a magnitude above 2^30 (NaN is allowed: it propagates).</summary>
    /// <param name="values">Single or Half values.</param>
    /// <returns>The index of the first such value, or −1.</returns>
    /// <exception cref="ArgumentException">The buffer is not Single or Half, or belongs to another provider.</exception>
    /// <exception cref="ObjectDisposedException">The provider or the buffer has been disposed.</exception>
    public long ReproducibleFindOutsideWindow(DeviceBuffer values)
    {
        ArgumentNullException.ThrowIfNull(values);
        CheckReproducibleValues(values, values.Length, values.Device, nameof(values));
        return ReproducibleFindOutsideWindowCore(values);
    }

    /// <summary>
    /// Replaces every NaN with the canonical NaN of its type (<see cref="float.NaN"/>, <see cref="Half.NaN"/>): IEEE maximum
    /// and minimum are order-independent except for NaN payloads, so a reproducible Max or Min ends with this.
    /// </summary>
    /// <param name="x">Single or Half values, changed in place.</param>
    /// <exception cref="ArgumentException">The buffer is not Single or Half, or belongs to another provider.</exception>
    /// <exception cref="ObjectDisposedException">The provider or the buffer has been disposed.</exception>
    public void CanonicalizeNaN(DeviceBuffer x)
    {
        ArgumentNullException.ThrowIfNull(x);
        CheckReproducibleValues(x, x.Length, x.Device, nameof(x));
        CanonicalizeNaNCore(x);
    }

    /// <summary>Merges <paramref name="other"/> into <paramref name="state"/>, exactly (the order of merges never matters).</summary>
    /// <param name="state">The state that receives the merge.</param>
    /// <param name="other">A state of the same length on the same device; unchanged.</param>
    /// <exception cref="ArgumentException">The states do not fit or are the same buffer.</exception>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    public void ReproducibleMerge(DeviceBuffer state, DeviceBuffer other)
    {
        Device device = CheckState(state, null, nameof(state));
        CheckState(other, device, nameof(other));
        if (other.Length != state.Length || ReferenceEquals(state, other))
        {
            throw new ArgumentException($"other: {other} must be a different state of the same length as {state}.", nameof(other));
        }

        ReproducibleMergeCore(state, other);
    }

    /// <summary>Rounds the state's sums once into <paramref name="output"/>: <c>output[i] = round((a₀ + a₁ + a₂) · scale)</c>, the product in double.</summary>
    /// <param name="state">The state, 3·n doubles; unchanged.</param>
    /// <param name="output">n Single or Half elements.</param>
    /// <param name="scale">1 for a sum; 1/(global contribution count) for a mean. Finite.</param>
    /// <exception cref="ArgumentException">A buffer does not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="scale"/> is not finite.</exception>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    public void ReproducibleFinalize(DeviceBuffer state, DeviceBuffer output, double scale)
    {
        if (!double.IsFinite(scale))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The finalize scale must be finite.");
        }

        Device device = CheckState(state, null, nameof(state));
        CheckReproducibleValues(output, state.Length / 3, device, nameof(output));
        ReproducibleFinalizeCore(state, output, scale);
    }

    /// <summary>Removes (<paramref name="biased"/> false) or restores the level biases in place, so states can be merged by a plain Double sum.</summary>
    /// <param name="state">The state.</param>
    /// <param name="biased">True to add the biases back.</param>
    internal void ReproducibleSetBias(DeviceBuffer state, bool biased)
    {
        CheckState(state, null, nameof(state));
        ReproducibleSetBiasCore(state, biased);
    }

    /// <summary>Resets a validated state.</summary>
    /// <param name="state">The state.</param>
    protected abstract void ReproducibleResetCore(DeviceBuffer state);

    /// <summary>Deposits validated values, all inside the window.</summary>
    /// <param name="state">The state.</param>
    /// <param name="values">The values.</param>
    protected abstract void ReproducibleDepositCore(DeviceBuffer state, DeviceBuffer values);

    /// <summary>Finds the first value outside the window in validated values, or returns −1.</summary>
    /// <param name="values">The values.</param>
    /// <returns>The index, or −1.</returns>
    protected abstract long ReproducibleFindOutsideWindowCore(DeviceBuffer values);

    /// <summary>Canonicalizes the NaNs of validated values in place.</summary>
    /// <param name="x">The values.</param>
    protected abstract void CanonicalizeNaNCore(DeviceBuffer x);

    /// <summary>Merges validated states.</summary>
    /// <param name="state">The receiving state.</param>
    /// <param name="other">The other state.</param>
    protected abstract void ReproducibleMergeCore(DeviceBuffer state, DeviceBuffer other);

    /// <summary>Finalizes a validated state.</summary>
    /// <param name="state">The state.</param>
    /// <param name="output">The output.</param>
    /// <param name="scale">The scale.</param>
    protected abstract void ReproducibleFinalizeCore(DeviceBuffer state, DeviceBuffer output, double scale);

    /// <summary>Subtracts (biased = false) or adds back the level biases of a validated state; both are exact.</summary>
    /// <param name="state">The state.</param>
    /// <param name="biased">True to add the biases.</param>
    protected abstract void ReproducibleSetBiasCore(DeviceBuffer state, bool biased);

    /// <summary>Reads one Single or Half value back to the host, for a message naming it.</summary>
    internal static double ReadValue(DeviceBuffer values, long index)
    {
        if (values.ElementType == typeof(Half))
        {
            Span<Half> one = stackalloc Half[1];
            values.Provider.CopyToHost(values, index, one);
            return (double)one[0];
        }

        Span<float> value = stackalloc float[1];
        values.Provider.CopyToHost(values, index, value);
        return value[0];
    }

    private Device CheckState(DeviceBuffer state, Device? device, string paramName)
    {
        Device owner = CheckBuffer<double>(state, 0, "a state", device, paramName);
        if (state.Length % 3 != 0)
        {
            throw new ArgumentException($"{paramName}: {state} is not a reproducible-sum state (3 doubles per element).", paramName);
        }

        return owner;
    }

    private void CheckReproducibleValues(DeviceBuffer values, long length, Device device, string paramName)
    {
        ArgumentNullException.ThrowIfNull(values, paramName);
        if (values.ElementType == typeof(Half))
        {
            CheckExact<Half>(values, length, device, paramName);
        }
        else
        {
            CheckExact<float>(values, length, device, paramName);
        }
    }
}
