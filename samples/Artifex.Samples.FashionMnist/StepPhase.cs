using Artifex.Distributed;

namespace Artifex.Samples.FashionMnist;

/// <summary>The spans of a device's training step that <see cref="StepTrace"/> records.</summary>
public enum StepPhase
{
    /// <summary>The forward pass and the loss.</summary>
    Forward,

    /// <summary>The backward pass, with the buckets' all-reduces started as their gradients become ready.</summary>
    Backward,

    /// <summary>Scoring the batch, then waiting for the last buckets (<see cref="GradientReducer.Finish"/>).</summary>
    Synchronize,

    /// <summary>The Adam update.</summary>
    Optimizer,
}
