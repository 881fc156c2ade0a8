using Artifex.Cuda.Runtime;

namespace Artifex.Cuda;

// The loss and optimizer kernels.
internal sealed unsafe partial class CudaKernels
{
    protected override void SoftmaxCrossEntropyCore(DeviceBuffer logits, DeviceBuffer labels, int rows, int classes, DeviceBuffer probabilities, DeviceBuffer losses)
    {
        CheckLabels(labels, rows, classes);
        if (rows == 0)
        {
            return;
        }

        CudaDeviceState state = Enter(probabilities);
        ulong x = Address(logits), targets = Address(labels), p = Address(probabilities), loss = Address(losses);
        void** arguments = stackalloc void*[] { &x, &targets, &rows, &classes, &p, &loss };
        _provider.Launcher.Launch(state, CudaKernel.SoftmaxCrossEntropy, rows, arguments);
    }

    protected override void SoftmaxCrossEntropyBackwardCore(DeviceBuffer probabilities, DeviceBuffer labels, int rows, int classes, float scale, DeviceBuffer gradLogits)
    {
        CheckLabels(labels, rows, classes);
        if (rows == 0)
        {
            return;
        }

        CudaDeviceState state = Enter(gradLogits);
        ulong p = Address(probabilities), targets = Address(labels), gradient = Address(gradLogits);
        void** arguments = stackalloc void*[] { &p, &targets, &rows, &classes, &scale, &gradient };
        _provider.Launcher.Launch(state, CudaKernel.SoftmaxCrossEntropyBackward, (long)rows * classes, arguments);
    }

    protected override void AdamUpdateCore(DeviceBuffer parameters, DeviceBuffer gradients, DeviceBuffer firstMoment, DeviceBuffer secondMoment, AdamStep settings)
    {
        long n = parameters.Length;
        if (n == 0)
        {
            return;
        }

        // The same single-precision constants as the CPU provider, computed once on the host.
        float beta1 = settings.Beta1;
        float beta2 = settings.Beta2;
        float oneMinusBeta1 = 1f - beta1;
        float oneMinusBeta2 = 1f - beta2;
        float stepSize = (float)(settings.LearningRate / (1 - Math.Pow(settings.Beta1, settings.Step)));
        float inverse = 1f / (float)Math.Sqrt(1 - Math.Pow(settings.Beta2, settings.Step));
        float epsilon = settings.Epsilon;
        CudaDeviceState state = Enter(parameters);
        ulong p = Address(parameters), g = Address(gradients), m = Address(firstMoment), v = Address(secondMoment);
        void** arguments = stackalloc void*[] { &p, &g, &m, &v, &n, &beta1, &beta2, &oneMinusBeta1, &oneMinusBeta2, &stepSize, &inverse, &epsilon };
        _provider.Launcher.Launch(state, CudaKernel.Adam, n, arguments);
    }

    protected override void SgdUpdateCore(DeviceBuffer parameters, DeviceBuffer gradients, DeviceBuffer? velocity, float learningRate, float momentum)
    {
        long n = parameters.Length;
        if (n == 0)
        {
            return;
        }

        CudaDeviceState state = Enter(parameters);
        ulong p = Address(parameters), g = Address(gradients);
        if (velocity is null)
        {
            void** plain = stackalloc void*[] { &p, &g, &n, &learningRate };
            _provider.Launcher.Launch(state, CudaKernel.Sgd, n, plain);
            return;
        }

        ulong v = Address(velocity);
        void** arguments = stackalloc void*[] { &p, &g, &v, &n, &learningRate, &momentum };
        _provider.Launcher.Launch(state, CudaKernel.SgdMomentum, n, arguments);
    }

    /// <summary>
    /// Reads the labels back and checks them before any kernel runs, so a bad label is reported by index (as on the CPU)
    /// and nothing is written. The read waits for the stream: one small synchronization per loss call.
    /// </summary>
    private void CheckLabels(DeviceBuffer labels, int rows, int classes)
    {
        if (rows == 0)
        {
            return;
        }

        int[] targets = new int[rows];
        _provider.CopyToHost<int>(labels, 0, targets);
        for (int r = 0; r < rows; r++)
        {
            if ((uint)targets[r] >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), targets[r], $"labels[{r}] is {targets[r]}, outside [0, {classes}).");
            }
        }
    }
}
