using System.Globalization;
using Artifex.Cpu.Kernels;

namespace Artifex.Cpu;

/// <summary>The reproducible-sum kernels (<see cref="ReproducibleSum.Version"/>) on CPU buffers.</summary>
internal sealed unsafe partial class CpuKernels
{
    protected override void ReproducibleResetCore(DeviceBuffer state) => ReproducibleKernels.Reset(Doubles(state), state.Length / 3);

    protected override void ReproducibleDepositCore(DeviceBuffer state, DeviceBuffer values)
    {
        long count = values.Length;
        void* pointer = ((CpuBuffer)values).Pointer;
        bool half = values.ElementType == typeof(Half);
        long bad = half ? ReproducibleKernels.FindOutsideWindow((Half*)pointer, count) : ReproducibleKernels.FindOutsideWindow((float*)pointer, count);
        if (bad >= 0)
        {
            throw new ArgumentException(WindowMessage("values", bad, half ? (double)((Half*)pointer)[bad] : ((float*)pointer)[bad]), nameof(values));
        }

        if (half)
        {
            ReproducibleKernels.Deposit(Doubles(state), (Half*)pointer, count);
        }
        else
        {
            ReproducibleKernels.Deposit(Doubles(state), (float*)pointer, count);
        }
    }

    protected override void ReproducibleMergeCore(DeviceBuffer state, DeviceBuffer other) =>
        ReproducibleKernels.Merge(Doubles(state), Doubles(other), state.Length / 3);

    protected override void ReproducibleFinalizeCore(DeviceBuffer state, DeviceBuffer output, double scale)
    {
        void* pointer = ((CpuBuffer)output).Pointer;
        if (output.ElementType == typeof(Half))
        {
            ReproducibleKernels.Finalize(Doubles(state), (Half*)pointer, output.Length, scale);
        }
        else
        {
            ReproducibleKernels.Finalize(Doubles(state), (float*)pointer, output.Length, scale);
        }
    }

    protected override void ReproducibleSetBiasCore(DeviceBuffer state, bool biased) =>
        ReproducibleKernels.SetBias(Doubles(state), state.Length / 3, biased);

    /// <summary>The message for a value outside the window, shared with the reproducible collectives.</summary>
    internal static string WindowMessage(string what, long index, double value) => string.Create(
        CultureInfo.InvariantCulture,
        $"{what}[{index}] is {value:R}, outside the window of reproducible summation ({ReproducibleSum.Version}: |x| ≤ 2^30, finite). Nothing was changed.");

    private static double* Doubles(DeviceBuffer buffer) => (double*)((CpuBuffer)buffer).Pointer;
}
