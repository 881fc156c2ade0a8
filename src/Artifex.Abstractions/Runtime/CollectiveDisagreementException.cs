namespace Artifex.Runtime;

/// <summary>
/// Thrown by a <see cref="CollectiveExecutor"/> whose check of agreement beyond this process failed (participants in
/// other processes asked for another collective, type, count, shape, op, root or determinism). The rendezvous hands every
/// local participant an <see cref="ArgumentException"/> with this message, as for a disagreement inside the process.
/// </summary>
public sealed class CollectiveDisagreementException : ArgumentException
{
    /// <summary>Initializes the exception.</summary>
    public CollectiveDisagreementException()
    {
    }

    /// <summary>Initializes the exception with the disagreement, as <see cref="CollectiveSignature.Describe"/> words it.</summary>
    /// <param name="message">The message.</param>
    public CollectiveDisagreementException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public CollectiveDisagreementException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
