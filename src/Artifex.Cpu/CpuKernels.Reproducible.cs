using Artifex.Cpu.Kernels;

namespace Artifex.Cpu;

// The reproducible-sum kernels (<see cref="ReproducibleSum.Version"/>) on CPU buffers.
public sealed unsafe partial class CpuKernels
{
    /// <inheritdoc/>
    protected override void ReproducibleResetCore(DeviceBuffer state) => ReproducibleKernels.Reset(Doubles(state), state.Length / 3);

    /// <inheritdoc/>
    protected override void ReproducibleDepositCore(DeviceBuffer state, DeviceBuffer values)
    {
        void* pointer = ((CpuBuffer)values).Address;
        if (values.ElementType == typeof(Half))
        {
            ReproducibleKernels.Deposit(Doubles(state), (Half*)pointer, values.Length);
        }
        else
        {
            ReproducibleKernels.Deposit(Doubles(state), (float*)pointer, values.Length);
        }
    }

    /// <inheritdoc/>
    protected override long ReproducibleFindOutsideWindowCore(DeviceBuffer values)
    {
        void* pointer = ((CpuBuffer)values).Address;
        return values.ElementType == typeof(Half)
            ? ReproducibleKernels.FindOutsideWindow((Half*)pointer, values.Length)
            : ReproducibleKernels.FindOutsideWindow((float*)pointer, values.Length);
    }

    /// <inheritdoc/>
    protected override void CanonicalizeNaNCore(DeviceBuffer x)
    {
        if (x.ElementType == typeof(Half))
        {
            foreach (ref Half value in ((CpuBuffer)x).AsSpan<Half>())
            {
                value = Half.IsNaN(value) ? Half.NaN : value;
            }

            return;
        }

        foreach (ref float value in ((CpuBuffer)x).AsSpan<float>())
        {
            value = float.IsNaN(value) ? float.NaN : value;
        }
    }

    /// <inheritdoc/>
    protected override void ReproducibleMergeCore(DeviceBuffer state, DeviceBuffer other) =>
        ReproducibleKernels.Merge(Doubles(state), Doubles(other), state.Length / 3);

    /// <inheritdoc/>
    protected override void ReproducibleFinalizeCore(DeviceBuffer state, DeviceBuffer output, double scale)
    {
        void* pointer = ((CpuBuffer)output).Address;
        if (output.ElementType == typeof(Half))
        {
            ReproducibleKernels.Finalize(Doubles(state), (Half*)pointer, output.Length, scale);
        }
        else
        {
            ReproducibleKernels.Finalize(Doubles(state), (float*)pointer, output.Length, scale);
        }
    }

    /// <inheritdoc/>
    protected override void ReproducibleSetBiasCore(DeviceBuffer state, bool biased) =>
        ReproducibleKernels.SetBias(Doubles(state), state.Length / 3, biased);

    private static double* Doubles(DeviceBuffer buffer) => (double*)((CpuBuffer)buffer).Address;
}
