using Artifex.Cpu;
using Artifex.Cuda.Distributed;
using Artifex.Cuda.Runtime;

namespace Artifex.Cuda.Tests;

/// <summary>What the conformance suites cannot say: the GPU results against the CPU provider's bits, NVRTC, NCCL, device errors.</summary>
public sealed class CudaProviderGpuTests
{
    [Fact]
    public void Provider_ReportsItsGpus_AndThePlatform()
    {
        using CudaProvider provider = GpuEnvironment.CreateProvider(1);
        TestContext.Current.SendDiagnosticMessage($"probe: {provider.Probe}");
        Assert.Equal("cuda", provider.Platform);
        Assert.All(provider.Devices, d => Assert.False(string.IsNullOrWhiteSpace(d.Kind)));
        Assert.Equal(provider.Devices.Count, provider.Ordinals.Count);
    }

    [Fact]
    public void Nvrtc_CompilesTheKernelSource_ToACubinWithEveryKernel()
    {
        using CudaProvider provider = GpuEnvironment.CreateProvider(1);
        CudaProbeResult probe = provider.Probe;
        TestContext.Current.SendDiagnosticMessage($"NVRTC {probe.NvrtcVersion}, driver {probe.DriverVersion}");
        Device device = provider.Devices[0];
        byte[] image = provider.Image.GetImage(provider.GetState(device).Facts.Major, provider.GetState(device).Facts.Minor);

        // An ELF cubin names its kernels in its string table.
        string text = System.Text.Encoding.ASCII.GetString(image);
        Assert.All(CudaKernelImage.KernelNames, name => Assert.Contains(name, text, StringComparison.Ordinal));
    }

    [Fact]
    public void ElementwiseAndOptimizerKernels_MatchTheCpuProviderBitForBit()
    {
        using CudaProvider gpu = GpuEnvironment.CreateProvider(1);
        using var cpu = new CpuProvider(1);
        const int n = 4099;
        float[] x = Random(n, 1), y = Random(n, 2), m = Random(n, 3), v = [.. Random(n, 4).Select(MathF.Abs)];
        var step = AdamStep.Default(1e-3f, 7);
        float[] RunOn(DeviceProvider provider)
        {
            Device device = provider.Devices[0];
            using DeviceBuffer a = Upload(provider, device, x), b = Upload(provider, device, y), first = Upload(provider, device, m), second = Upload(provider, device, v);
            using DeviceBuffer sum = provider.Allocate<float>(device, n);
            provider.Kernels.Add(a, b, sum);
            provider.Kernels.Multiply(sum, b, sum);
            provider.Kernels.Relu(sum, sum);
            provider.Kernels.AdamUpdate(a, sum, first, second, step);
            provider.Kernels.SgdUpdate(a, b, first, 0.01f, 0.9f);
            float[] result = new float[n];
            provider.CopyToHost<float>(a, 0, result);
            return result;
        }

        Assert.Equal(RunOn(cpu), RunOn(gpu));
    }

    [Fact]
    public void ReproducibleState_GivesTheCpuProvidersBits()
    {
        using CudaProvider gpu = GpuEnvironment.CreateProvider(1);
        using var cpu = new CpuProvider(1);
        const int n = 1000;
        float[][] parts = [Random(n, 5), Random(n, 6), Random(n, 7)];
        float[] RunOn(DeviceProvider provider)
        {
            Device device = provider.Devices[0];
            using DeviceBuffer state = provider.Allocate<double>(device, 3 * n);
            using DeviceBuffer output = provider.Allocate<float>(device, n);
            provider.Kernels.ReproducibleReset(state);
            foreach (float[] part in parts)
            {
                using DeviceBuffer values = Upload(provider, device, part);
                provider.Kernels.ReproducibleDeposit(state, values);
            }

            provider.Kernels.ReproducibleFinalize(state, output, 1.0 / 3);
            float[] result = new float[n];
            provider.CopyToHost<float>(output, 0, result);
            return result;
        }

        Assert.Equal(RunOn(cpu), RunOn(gpu));
    }

    [Fact]
    public void NcclCommunicatorOfOneRank_AllReducesBroadcastsAndGathers()
    {
        using CudaProvider provider = GpuEnvironment.CreateProvider(1);
        Device device = provider.Devices[0];
        using NcclCommunicator communicator = NcclCommunicator.CreateSingle(provider, device);
        TestContext.Current.SendDiagnosticMessage($"NCCL {provider.Probe.NcclVersion}: rank {communicator.Rank} of {communicator.Size}");
        Assert.Equal((0, 1), (communicator.Rank, communicator.Size));
        float[] values = Random(1 << 16, 8);
        using DeviceBuffer input = Upload(provider, device, values);
        using DeviceBuffer output = provider.Allocate<float>(device, values.Length);
        communicator.AllReduce(input, output, ReduceOp.Sum);
        Assert.Equal(values, Download(provider, output));
        communicator.AllReduce(input, input, ReduceOp.Mean);
        communicator.Broadcast(input, output, root: 0);
        communicator.AllGather(input, output);
        Assert.Equal(values, Download(provider, output));
        using NcclCommunicator? half = communicator.Split(color: 0, key: 0);
        Assert.NotNull(half);
        Assert.Equal(1, half.Size);
    }

    [Fact]
    public void AnImpossibleAllocation_ThrowsCudaOutOfMemory_AndTheProviderStaysUsable()
    {
        using CudaProvider provider = GpuEnvironment.CreateProvider(1);
        Device device = provider.Devices[0];
        CudaOutOfMemoryException error = Assert.Throws<CudaOutOfMemoryException>(() => provider.Allocate<float>(device, 1L << 40));
        Assert.Contains("cuMemAlloc_v2", error.Message, StringComparison.Ordinal);
        using DeviceBuffer small = provider.Allocate<float>(device, 16);
        Assert.Equal(1, provider.LiveBufferCount);
    }

    [Fact]
    public void ASoftmaxLabelOutOfRange_IsRejectedByIndex_BeforeAnyKernelRuns()
    {
        using CudaProvider provider = GpuEnvironment.CreateProvider(1);
        Device device = provider.Devices[0];
        using DeviceBuffer logits = Upload(provider, device, Random(6, 9));
        using DeviceBuffer labels = provider.Allocate<int>(device, 2);
        provider.CopyFromHost<int>([1, 3], labels);
        using DeviceBuffer probabilities = provider.Allocate<float>(device, 6);
        using DeviceBuffer losses = provider.Allocate<float>(device, 2);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => provider.Kernels.SoftmaxCrossEntropy(logits, labels, 2, 3, probabilities, losses));
        Assert.Contains("labels[1] is 3", error.Message, StringComparison.Ordinal);
    }

    private static float[] Random(int n, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2) - 1))];
    }

    private static DeviceBuffer Upload(DeviceProvider provider, Device device, float[] values)
    {
        DeviceBuffer buffer = provider.Allocate<float>(device, values.Length);
        provider.CopyFromHost<float>(values, buffer);
        return buffer;
    }

    private static float[] Download(DeviceProvider provider, DeviceBuffer buffer)
    {
        float[] values = new float[buffer.Length];
        provider.CopyToHost<float>(buffer, 0, values);
        return values;
    }
}
