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

    /// <summary>The Adam kernel's rules for its settings, in one place for every caller that checks them before work starts.</summary>
    /// <param name="paramName">The caller's parameter that holds the settings.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range or the step is not positive.</exception>
    internal void ThrowIfInvalid(string paramName)
    {
        if (!float.IsFinite(LearningRate) || LearningRate < 0)
        {
            throw new ArgumentOutOfRangeException(paramName, LearningRate, "The Adam learning rate must be finite and not negative.");
        }

        if (!(Beta1 is >= 0 and < 1) || !(Beta2 is >= 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(paramName, $"Adam's betas must lie in [0, 1), but are {Beta1} and {Beta2}.");
        }

        if (!float.IsFinite(Epsilon) || Epsilon <= 0)
        {
            throw new ArgumentOutOfRangeException(paramName, Epsilon, "Adam's epsilon must be finite and positive.");
        }

        if (Step < 1)
        {
            throw new ArgumentOutOfRangeException(paramName, Step, "The Adam step number is 1-based.");
        }
    }
}
