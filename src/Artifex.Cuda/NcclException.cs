namespace Artifex.Cuda;

/// <summary>An NCCL call returned an error (<c>ncclResult_t</c> other than <c>ncclSuccess</c>).</summary>
/// <remarks>
/// <see cref="IsRemote"/> marks <c>ncclSystemError</c> and <c>ncclRemoteError</c>: a peer exited, the network failed, or
/// a system call failed, so the communicator should be aborted (<c>ncclCommAbort</c>) rather than destroyed.
/// </remarks>
public class NcclException : CudaException
{
    /// <summary>Initializes a new instance of the <see cref="NcclException"/> class.</summary>
    public NcclException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="NcclException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public NcclException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="NcclException"/> class with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public NcclException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="NcclException"/> class from a failed NCCL call.</summary>
    /// <param name="api">The entry point that failed, e.g. <c>ncclAllReduce</c>.</param>
    /// <param name="code">The <c>ncclResult_t</c> it returned.</param>
    /// <param name="nativeName">NCCL's name for the code, e.g. <c>ncclRemoteError</c>.</param>
    /// <param name="nativeMessage">The text of <c>ncclGetErrorString</c>; may be empty.</param>
    /// <param name="lastError">The text of <c>ncclGetLastError</c>, NCCL's detailed account of the failure, or <see langword="null"/>.</param>
    public NcclException(string api, int code, string nativeName, string nativeMessage, string? lastError)
        : base(NcclLibrary, api, code, nativeName, nativeMessage, FormatNcclMessage(api, code, nativeName, nativeMessage, lastError))
    {
        LastError = lastError;
    }

    /// <summary>Gets NCCL's detailed account of the failure (<c>ncclGetLastError</c>), or <see langword="null"/> when it had none.</summary>
    public string? LastError { get; }

    /// <summary>
    /// Gets a value indicating whether the failure came from outside this process: <c>ncclRemoteError</c> (6, a peer exited
    /// or the network failed) or <c>ncclSystemError</c> (2, a system call such as a socket operation failed).
    /// </summary>
    public bool IsRemote => Code is 2 or 6;

    private static string FormatNcclMessage(string api, int code, string nativeName, string nativeMessage, string? lastError)
    {
        string message = FormatMessage(api, code, nativeName, nativeMessage);
        return string.IsNullOrEmpty(lastError) ? message : message + " (last error: " + lastError + ")";
    }
}
