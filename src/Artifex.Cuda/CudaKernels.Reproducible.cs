using System.Globalization;
using Artifex.Cuda.Native;
using Artifex.Cuda.Runtime;

namespace Artifex.Cuda;

/// <summary>The reproducible-sum kernels (<see cref="ReproducibleSum.Version"/>), the same IEEE double operations as the CPU provider's, so the same bits.</summary>
internal sealed unsafe partial class CudaKernels
{
    protected override void ReproducibleResetCore(DeviceBuffer state) => LaunchOnState(CudaKernel.ReproducibleReset, state, state.Length / 3);

    protected internal override void ReproducibleSetBiasCore(DeviceBuffer state, bool biased)
    {
        long count = state.Length / 3;
        if (count == 0)
        {
            return;
        }

        CudaDeviceState device = Enter(state);
        ulong pointer = Address(state);
        int flag = biased ? 1 : 0;
        void** arguments = stackalloc void*[] { &pointer, &count, &flag };
        _provider.Launcher.Launch(device, CudaKernel.ReproducibleSetBias, count, arguments);
    }

    protected override void ReproducibleDepositCore(DeviceBuffer state, DeviceBuffer values)
    {
        long count = values.Length;
        if (count == 0)
        {
            return;
        }

        bool half = values.ElementType == typeof(Half);
        CheckWindow(values, half);
        CudaDeviceState device = Enter(state);
        ulong accumulators = Address(state), input = Address(values);
        void** arguments = stackalloc void*[] { &accumulators, &input, &count };
        _provider.Launcher.Launch(device, half ? CudaKernel.ReproducibleDepositHalf : CudaKernel.ReproducibleDepositSingle, count, arguments);
    }

    protected override void ReproducibleMergeCore(DeviceBuffer state, DeviceBuffer other)
    {
        long count = state.Length / 3;
        if (count == 0)
        {
            return;
        }

        CudaDeviceState device = Enter(state);
        ulong target = Address(state), source = Address(other);
        void** arguments = stackalloc void*[] { &target, &source, &count };
        _provider.Launcher.Launch(device, CudaKernel.ReproducibleMerge, count, arguments);
    }

    protected override void ReproducibleFinalizeCore(DeviceBuffer state, DeviceBuffer output, double scale)
    {
        long count = output.Length;
        if (count == 0)
        {
            return;
        }

        CudaDeviceState device = Enter(output);
        ulong accumulators = Address(state), result = Address(output);
        void** arguments = stackalloc void*[] { &accumulators, &result, &count, &scale };
        CudaKernel kernel = output.ElementType == typeof(Half) ? CudaKernel.ReproducibleFinalizeHalf : CudaKernel.ReproducibleFinalizeSingle;
        _provider.Launcher.Launch(device, kernel, count, arguments);
    }

    private void LaunchOnState(CudaKernel kernel, DeviceBuffer state, long count)
    {
        if (count == 0)
        {
            return;
        }

        CudaDeviceState device = Enter(state);
        ulong pointer = Address(state);
        void** arguments = stackalloc void*[] { &pointer, &count };
        _provider.Launcher.Launch(device, kernel, count, arguments);
    }

    /// <summary>Finds the first value outside the window on the GPU and reports it before anything is deposited (one small read-back).</summary>
    private void CheckWindow(DeviceBuffer values, bool half)
    {
        long count = values.Length;
        CudaDeviceState device = Enter(values);
        ulong scratch = device.Scratch;
        CudaCheck.Driver(CuDriver.cuMemsetD8Async(scratch, 0xFF, sizeof(ulong), device.StreamValue), "cuMemsetD8Async");
        ulong input = Address(values);
        void** arguments = stackalloc void*[] { &input, &count, &scratch };
        _provider.Launcher.Launch(device, half ? CudaKernel.FindOutsideWindowHalf : CudaKernel.FindOutsideWindowSingle, count, arguments);
        ulong first;
        CudaCheck.Driver(CuDriver.cuMemcpyDtoHAsync_v2(&first, scratch, sizeof(ulong), device.StreamValue), "cuMemcpyDtoHAsync_v2");
        CudaCheck.Driver(CuDriver.cuStreamSynchronize(device.StreamValue), "cuStreamSynchronize");
        if (first == ulong.MaxValue)
        {
            return;
        }

        long index = (long)first;
        double value;
        if (half)
        {
            Half[] one = new Half[1];
            _provider.CopyToHost<Half>(values, index, one);
            value = (double)one[0];
        }
        else
        {
            float[] one = new float[1];
            _provider.CopyToHost<float>(values, index, one);
            value = one[0];
        }

        throw new ArgumentException(string.Create(
            CultureInfo.InvariantCulture,
            $"values[{index}] is {value:R}, outside the window of reproducible summation ({ReproducibleSum.Version}: |x| ≤ 2^30, finite). Nothing was changed."),
            nameof(values));
    }
}
