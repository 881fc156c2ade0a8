using System.Runtime.InteropServices;

namespace Artifex;

/// <summary>The hyper-parameters of one Adam step (Kingma and Ba, with PyTorch's placement of epsilon).</summary>
/// <param name="LearningRate">The learning rate; finite and not negative.</param>
/// <param name="Beta1">The decay of the first moment, in [0, 1).</param>
/// <param name="Beta2">The decay of the second moment, in [0, 1).</param>
/// <param name="Epsilon">Added to the bias-corrected root of the second moment; finite and positive.</param>
/// <param name="Step">The 1-based step number, for the bias corrections.</param>
[StructLayout(LayoutKind.Auto)]
public readonly record struct AdamStep(float LearningRate, float Beta1, float Beta2, float Epsilon, int Step)
{
    /// <summary>Gets PyTorch's defaults (betas 0.9 and 0.999, epsilon 1e-8) for a learning rate and step.</summary>
    /// <param name="learningRate">The learning rate.</param>
    /// <param name="step">The 1-based step number.</param>
    /// <returns>The step settings.</returns>
    public static AdamStep Default(float learningRate, int step) => new(learningRate, 0.9f, 0.999f, 1e-8f, step);
}
