namespace Artifex.Distributed;

/// <summary>How a <see cref="GradientReducer"/> sends Single gradients (PyTorch DDP's communication hooks, Horovod's compression).</summary>
public enum GradientCompression
{
    /// <summary>Gradients travel as they are: the result has the bits of <see cref="DataParallel.AllReduceGradients(Tree{DeviceArray}, ReduceOp, string)"/>.</summary>
    None = 0,

    /// <summary>
    /// Gradients travel as Half: each is divided by the participant count in Single, rounded to Half, the Halfs are summed
    /// in rank order, and the sum is widened back to Single (DDP's <c>fp16_compress_hook</c>, which also divides before the
    /// sum so that it cannot overflow where the mean would not). Half the bytes; about 3 significant digits per element.
    /// .NET has no BFloat16 type, so there is no BFloat16 option.
    /// </summary>
    Half = 1,
}
