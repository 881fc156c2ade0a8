using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Artifex.TorchSharp.Benchmarks;

/// <summary>The two models the step benchmarks train, and a batch of Fashion-MNIST's shape for each.</summary>
internal static class StepModels
{
    /// <summary>The model, seeded so that every configuration starts from the same parameters.</summary>
    public static Module<Tensor, Tensor> Create(string model)
    {
        manual_seed(42);
        return string.Equals(model, "cnn", StringComparison.Ordinal)
            ? Sequential(Conv2d(1, 16, 5), ReLU(), MaxPool2d(2), Conv2d(16, 32, 5), ReLU(), MaxPool2d(2), Flatten(), Linear(512, 10))
            : Sequential(Linear(784, 512), ReLU(), Linear(512, 10));
    }

    /// <summary>Random images (the step time does not depend on the values) and labels.</summary>
    public static (Tensor Images, Tensor Labels) Batch(string model, int size)
    {
        var generator = new Generator(7);
        Tensor images = string.Equals(model, "cnn", StringComparison.Ordinal) ? randn([size, 1, 28, 28], generator: generator) : randn([size, 784], generator: generator);
        return (images, randint(0, 10, [size], generator: generator));
    }
}
