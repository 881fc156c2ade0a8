namespace Artifex;

// Softmax cross-entropy and the optimizer updates.
public abstract partial class DeviceKernels
{
    /// <summary>
    /// Softmax cross-entropy forward, row by row: <c>probabilities[r, :] = softmax(logits[r, :])</c> and
    /// <c>losses[r] = logsumexp(logits[r, :]) − logits[r, labels[r]]</c> (computed after subtracting the row maximum).
    /// </summary>
    /// <param name="logits">A dense rows×classes matrix.</param>
    /// <param name="labels">Int32 class indices, one per row, each in [0, classes).</param>
    /// <param name="rows">The row count (the local batch size).</param>
    /// <param name="classes">The class count; positive.</param>
    /// <param name="probabilities">The rows×classes output; may be the logits.</param>
    /// <param name="losses">The per-row losses, <paramref name="rows"/> long.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range, or a label is outside [0, classes) (the message names the row; nothing is written).</exception>
    /// <exception cref="ArgumentException">A buffer is too short, has the wrong element type, or is on another device or provider.</exception>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    public void SoftmaxCrossEntropy(DeviceBuffer logits, DeviceBuffer labels, int rows, int classes, DeviceBuffer probabilities, DeviceBuffer losses)
    {
        CheckMatrixSize(rows, classes, nameof(rows), nameof(classes));
        ArgumentOutOfRangeException.ThrowIfZero(classes);
        Device device = CheckBuffer<float>(logits, (long)rows * classes, new ShapeText("a {0}×{1} matrix", rows, classes), null, nameof(logits));
        CheckBuffer<int>(labels, rows, new ShapeText("{0} labels", rows), device, nameof(labels));
        CheckBuffer<float>(probabilities, (long)rows * classes, new ShapeText("a {0}×{1} matrix", rows, classes), device, nameof(probabilities));
        CheckBuffer<float>(losses, rows, new ShapeText("{0} losses", rows), device, nameof(losses));
        SoftmaxCrossEntropyCore(logits, labels, rows, classes, probabilities, losses);
    }

    /// <summary>
    /// Softmax cross-entropy backward: <c>gradLogits[r, c] = scale · (probabilities[r, c] − [c = labels[r]])</c>. For the mean
    /// loss over a batch of b rows, pass <c>scale = 1/b</c>.
    /// </summary>
    /// <param name="probabilities">The forward probabilities, rows×classes.</param>
    /// <param name="labels">Int32 class indices, each in [0, classes).</param>
    /// <param name="rows">The row count.</param>
    /// <param name="classes">The class count; positive.</param>
    /// <param name="scale">The factor applied to every element.</param>
    /// <param name="gradLogits">The rows×classes output; may be the probabilities.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range, or a label is outside [0, classes) (nothing is written).</exception>
    /// <exception cref="ArgumentException">A buffer is too short, has the wrong element type, or is on another device or provider.</exception>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    public void SoftmaxCrossEntropyBackward(DeviceBuffer probabilities, DeviceBuffer labels, int rows, int classes, float scale, DeviceBuffer gradLogits)
    {
        CheckMatrixSize(rows, classes, nameof(rows), nameof(classes));
        ArgumentOutOfRangeException.ThrowIfZero(classes);
        Device device = CheckBuffer<float>(probabilities, (long)rows * classes, new ShapeText("a {0}×{1} matrix", rows, classes), null, nameof(probabilities));
        CheckBuffer<int>(labels, rows, new ShapeText("{0} labels", rows), device, nameof(labels));
        CheckBuffer<float>(gradLogits, (long)rows * classes, new ShapeText("a {0}×{1} matrix", rows, classes), device, nameof(gradLogits));
        SoftmaxCrossEntropyBackwardCore(probabilities, labels, rows, classes, scale, gradLogits);
    }

    /// <summary>
    /// One Adam step in place, as PyTorch computes it: <c>m = β₁m + (1−β₁)g</c>, <c>v = β₂v + (1−β₂)g²</c>,
    /// <c>p −= (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)</c>.
    /// </summary>
    /// <param name="parameters">The parameters, updated in place.</param>
    /// <param name="gradients">The gradients, same length.</param>
    /// <param name="firstMoment">m, same length, updated in place (start from zeros).</param>
    /// <param name="secondMoment">v, same length, updated in place (start from zeros).</param>
    /// <param name="settings">The hyper-parameters and 1-based step number.</param>
    /// <remarks>The step size lr/(1−β₁ᵗ) and √(1−β₂ᵗ) are computed once in double precision and rounded to float; the CPU provider then multiplies √v by the float reciprocal of the latter (one division per element instead of two), and its element loop uses no fused multiply-add, so every SIMD width gives the same bits.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range or the step is not positive.</exception>
    /// <exception cref="ArgumentException">The lengths differ, a buffer is passed twice, or a buffer is not Single or is on another device or provider.</exception>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    public void AdamUpdate(DeviceBuffer parameters, DeviceBuffer gradients, DeviceBuffer firstMoment, DeviceBuffer secondMoment, AdamStep settings)
    {
        settings.ThrowIfInvalid(nameof(settings));
        Device device = CheckBuffer<float>(parameters, 0, "a vector", null, nameof(parameters));
        CheckExact<float>(gradients, parameters.Length, device, nameof(gradients));
        CheckExact<float>(firstMoment, parameters.Length, device, nameof(firstMoment));
        CheckExact<float>(secondMoment, parameters.Length, device, nameof(secondMoment));
        CheckDistinct(nameof(parameters), parameters, gradients, firstMoment, secondMoment);
        AdamUpdateCore(parameters, gradients, firstMoment, secondMoment, settings);
    }

    /// <summary>
    /// One SGD step in place, as PyTorch computes it (no dampening): with momentum μ &gt; 0, <c>v = μv + g</c> and <c>p −= lr·v</c>;
    /// with μ = 0, <c>p −= lr·g</c> and <paramref name="velocity"/> may be null.
    /// </summary>
    /// <param name="parameters">The parameters, updated in place.</param>
    /// <param name="gradients">The gradients, same length.</param>
    /// <param name="velocity">The momentum buffer, same length (start from zeros); required when momentum is positive.</param>
    /// <param name="learningRate">The learning rate; finite and not negative.</param>
    /// <param name="momentum">The momentum in [0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate or momentum is out of range.</exception>
    /// <exception cref="ArgumentException">The lengths differ, a buffer is passed twice, velocity is missing, or a buffer is not Single or is on another device or provider.</exception>
    /// <exception cref="ObjectDisposedException">The provider or a buffer has been disposed.</exception>
    public void SgdUpdate(DeviceBuffer parameters, DeviceBuffer gradients, DeviceBuffer? velocity, float learningRate, float momentum)
    {
        if (!float.IsFinite(learningRate) || learningRate < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The SGD learning rate must be finite and not negative.");
        }

        if (!(momentum is >= 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "The SGD momentum must lie in [0, 1).");
        }

        Device device = CheckBuffer<float>(parameters, 0, "a vector", null, nameof(parameters));
        CheckExact<float>(gradients, parameters.Length, device, nameof(gradients));
        if (momentum > 0 && velocity is null)
        {
            throw new ArgumentException("velocity: SGD with momentum needs a velocity buffer.", nameof(velocity));
        }

        if (velocity is not null)
        {
            CheckExact<float>(velocity, parameters.Length, device, nameof(velocity));
            CheckDistinct(nameof(parameters), parameters, gradients, velocity);
        }
        else
        {
            CheckDistinct(nameof(parameters), parameters, gradients);
        }

        SgdUpdateCore(parameters, gradients, momentum > 0 ? velocity : null, learningRate, momentum);
    }

    /// <summary>Runs a validated softmax cross-entropy forward pass; checks the labels before writing anything.</summary>
    /// <param name="logits">The logits.</param>
    /// <param name="labels">The labels.</param>
    /// <param name="rows">The row count.</param>
    /// <param name="classes">The class count.</param>
    /// <param name="probabilities">The probabilities.</param>
    /// <param name="losses">The per-row losses.</param>
    protected abstract void SoftmaxCrossEntropyCore(DeviceBuffer logits, DeviceBuffer labels, int rows, int classes, DeviceBuffer probabilities, DeviceBuffer losses);

    /// <summary>Runs a validated softmax cross-entropy backward pass; checks the labels before writing anything.</summary>
    /// <param name="probabilities">The probabilities.</param>
    /// <param name="labels">The labels.</param>
    /// <param name="rows">The row count.</param>
    /// <param name="classes">The class count.</param>
    /// <param name="scale">The factor.</param>
    /// <param name="gradLogits">The output gradient.</param>
    protected abstract void SoftmaxCrossEntropyBackwardCore(DeviceBuffer probabilities, DeviceBuffer labels, int rows, int classes, float scale, DeviceBuffer gradLogits);

    /// <summary>Runs a validated Adam settings.</summary>
    /// <param name="parameters">The parameters.</param>
    /// <param name="gradients">The gradients.</param>
    /// <param name="firstMoment">m.</param>
    /// <param name="secondMoment">v.</param>
    /// <param name="settings">The settings.</param>
    protected abstract void AdamUpdateCore(DeviceBuffer parameters, DeviceBuffer gradients, DeviceBuffer firstMoment, DeviceBuffer secondMoment, AdamStep settings);

    /// <summary>Runs a validated SGD settings.</summary>
    /// <param name="parameters">The parameters.</param>
    /// <param name="gradients">The gradients.</param>
    /// <param name="velocity">The momentum buffer, or null when momentum is 0.</param>
    /// <param name="learningRate">The learning rate.</param>
    /// <param name="momentum">The momentum.</param>
    protected abstract void SgdUpdateCore(DeviceBuffer parameters, DeviceBuffer gradients, DeviceBuffer? velocity, float learningRate, float momentum);

    private static void CheckDistinct(string paramName, params ReadOnlySpan<DeviceBuffer> buffers)
    {
        for (int i = 0; i < buffers.Length; i++)
        {
            for (int j = i + 1; j < buffers.Length; j++)
            {
                if (ReferenceEquals(buffers[i], buffers[j]))
                {
                    throw new ArgumentException($"{buffers[i]} is passed as two different operands of an optimizer update.", paramName);
                }
            }
        }
    }
}
