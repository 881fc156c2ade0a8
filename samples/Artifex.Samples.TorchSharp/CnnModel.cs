using Artifex.TorchSharp;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace Artifex.Samples.TorchSharp;

/// <summary>
/// The sample's model: two 5×5 convolutions (16 and 32 channels), each followed by ReLU and 2×2 max-pooling, and a linear
/// head from the 32×4×4 features to the 10 classes — 18,378 parameters.
/// </summary>
public static class CnnModel
{
    /// <summary>The model as the plot's title and the report name it.</summary>
    public const string Title = "CNN conv5x5-16, conv5x5-32, linear 512-10";

    /// <summary>Builds the model on <paramref name="device"/> with the initial parameters of <paramref name="seed"/>.</summary>
    /// <param name="device">The Artifex device whose libtorch device holds the parameters.</param>
    /// <param name="seed">The seed of the initial parameters.</param>
    /// <returns>The model, in training mode.</returns>
    public static Sequential Create(Device device, ulong seed)
    {
        // libtorch draws the initial parameters from its global generator: seeding it right before gives the same
        // parameters for every replica, run, device count and process layout.
        torch.manual_seed(unchecked((long)seed));
        Sequential model = Sequential(
            ("conv1", Conv2d(1, 16, 5)),
            ("relu1", ReLU()),
            ("pool1", MaxPool2d(2)),
            ("conv2", Conv2d(16, 32, 5)),
            ("relu2", ReLU()),
            ("pool2", MaxPool2d(2)),
            ("flatten", Flatten()),
            ("head", Linear(32 * 4 * 4, 10)));
        return model.to(TorchDevices.ToTorch(device));
    }
}
