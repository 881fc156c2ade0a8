namespace Artifex.Cpu.Tests;

/// <summary>The kernels of a training step allocate nothing on the managed heap once warm (validation included).</summary>
public sealed class CpuKernelAllocationTests
{
    [Fact]
    public void TrainingKernels_AllocateNothing()
    {
        using var provider = new CpuProvider(1);
        Device device = provider.Devices[0];
        DeviceKernels k = provider.Kernels;
        const int rows = 16, hidden = 64, inputs = 48, classes = 10;
        using DeviceBuffer x = Filled(provider, device, rows * inputs, 0.5f);
        using DeviceBuffer w1 = Filled(provider, device, inputs * hidden, 0.01f);
        using DeviceBuffer b1 = Filled(provider, device, hidden, 0.1f);
        using DeviceBuffer h = Filled(provider, device, rows * hidden, 0f);
        using DeviceBuffer w2 = Filled(provider, device, hidden * classes, 0.02f);
        using DeviceBuffer logits = Filled(provider, device, rows * classes, 0f);
        using DeviceBuffer probabilities = Filled(provider, device, rows * classes, 0f);
        using DeviceBuffer losses = Filled(provider, device, rows, 0f);
        using DeviceBuffer gradW1 = Filled(provider, device, inputs * hidden, 0f);
        using DeviceBuffer gradW2 = Filled(provider, device, hidden * classes, 0.5f);
        using DeviceBuffer m = Filled(provider, device, inputs * hidden, 0f);
        using DeviceBuffer v = Filled(provider, device, inputs * hidden, 0f);
        using DeviceBuffer labels = provider.Allocate<int>(device, rows);
        provider.CopyFromHost<int>(Enumerable.Range(0, rows).Select(i => i % classes).ToArray(), labels);

        void Step(int t)
        {
            k.Gemm(MatrixOperation.None, MatrixOperation.None, rows, hidden, inputs, 1f, x, w1, 0f, h);
            k.AddBias(h, rows, hidden, b1);
            k.Relu(h, h);
            k.Gemm(MatrixOperation.None, MatrixOperation.None, rows, classes, hidden, 1f, h, w2, 0f, logits);
            k.SoftmaxCrossEntropy(logits, labels, rows, classes, probabilities, losses);
            k.SoftmaxCrossEntropyBackward(probabilities, labels, rows, classes, 1f / rows, logits);
            k.ReluBackward(h, h, h);
            k.ColumnSums(h, rows, hidden, b1);
            k.Gemm(MatrixOperation.Transpose, MatrixOperation.None, inputs, hidden, rows, 1f, x, h, 0f, gradW1);
            k.AdamUpdate(w1, gradW1, m, v, AdamStep.Default(1e-3f, t));
            k.SgdUpdate(w2, gradW2, null, 1e-3f, 0f);
            k.Axpy(0.5f, b1, b1);
            k.Scale(1f, b1);
        }

        Step(1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 2; t < 12; t++)
        {
            Step(t);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static DeviceBuffer Filled(CpuProvider provider, Device device, int length, float value)
    {
        DeviceBuffer buffer = provider.Allocate<float>(device, length);
        provider.Kernels.Fill(buffer, value);
        return buffer;
    }
}
