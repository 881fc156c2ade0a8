using Artifex.Cuda.Native;
using Artifex.Cuda.Runtime;

namespace Artifex.Cuda;

// The reproducible-sum kernels (<see cref="ReproducibleSum.Version"/>), the same IEEE double operations as the CPU provider's, so the same bits.
internal sealed unsafe partial class CudaKernels
{
    protected override void ReproducibleResetCore(DeviceBuffer state) => LaunchOnState(CudaKernel.ReproducibleReset, state, state.Length / 3);

    protected override void ReproducibleSetBiasCore(DeviceBuffer state, bool biased)
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

    /// <summary>Finds the first value outside the window on the GPU (one small read-back).</summary>
    protected override long ReproducibleFindOutsideWindowCore(DeviceBuffer values)
    {
        long count = values.Length;
        if (count == 0)
        {
            return -1;
        }

        bool half = values.ElementType == typeof(Half);
        CudaDeviceState device = Enter(values);
        ulong scratch = device.Scratch;
        CudaCheck.Driver(CuDriver.cuMemsetD8Async(scratch, 0xFF, sizeof(ulong), device.StreamValue), "cuMemsetD8Async");
        ulong input = Address(values);
        void** arguments = stackalloc void*[] { &input, &count, &scratch };
        _provider.Launcher.Launch(device, half ? CudaKernel.FindOutsideWindowHalf : CudaKernel.FindOutsideWindowSingle, count, arguments);
        ulong first;
        CudaCheck.Driver(CuDriver.cuMemcpyDtoHAsync_v2(&first, scratch, sizeof(ulong), device.StreamValue), "cuMemcpyDtoHAsync_v2");
        CudaCheck.Driver(CuDriver.cuStreamSynchronize(device.StreamValue), "cuStreamSynchronize");
        return first == ulong.MaxValue ? -1 : (long)first;
    }

    protected override void CanonicalizeNaNCore(DeviceBuffer x)
    {
        long count = x.Length;
        if (count == 0)
        {
            return;
        }

        CudaDeviceState device = Enter(x);
        ulong pointer = Address(x);
        void** arguments = stackalloc void*[] { &pointer, &count };
        _provider.Launcher.Launch(device, x.ElementType == typeof(Half) ? CudaKernel.CanonicalizeNaNHalf : CudaKernel.CanonicalizeNaNSingle, count, arguments);
    }
}
