using TorchSharp;
using static TorchSharp.torch.nn;

namespace Artifex.TorchSharp.Tests;

/// <summary>A small model and data, the same for every device count: what the equivalence tests train.</summary>
internal static class TinyModel
{
    public const int Features = 8;
    public const int Classes = 3;

    /// <summary>The model with the same initial parameters on every call (seeded), on <paramref name="device"/>.</summary>
    public static Module<torch.Tensor, torch.Tensor> Create(Device device)
    {
        torch.manual_seed(7);
        return Sequential(Linear(Features, 16), ReLU(), Linear(16, Classes)).to(TorchDevices.ToTorch(device));
    }

    /// <summary>Global batch <paramref name="step"/>: 16 rows of features and their labels.</summary>
    public static (torch.Tensor X, torch.Tensor Y) Batch(int step)
    {
        var generator = new torch.Generator((ulong)(1000 + step));
        torch.Tensor x = torch.randn([16, Features], generator: generator);
        torch.Tensor y = torch.randint(0, Classes, [16], generator: generator);
        return (x, y);
    }
}
