namespace Artifex.Cuda;

/// <summary>NVRTC could not compile a kernel source; <see cref="Log"/> holds the compiler's diagnostics.</summary>
public class CudaCompilationException : CudaException
{
    /// <summary>How much of the log the message repeats; the whole log stays in <see cref="Log"/>.</summary>
    private const int MessageLogLimit = 4000;

    /// <summary>Initializes a new instance of the <see cref="CudaCompilationException"/> class.</summary>
    public CudaCompilationException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CudaCompilationException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public CudaCompilationException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CudaCompilationException"/> class with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public CudaCompilationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CudaCompilationException"/> class from a failed NVRTC call.</summary>
    /// <param name="api">The entry point that failed, e.g. <c>nvrtcCompileProgram</c>.</param>
    /// <param name="code">The <c>nvrtcResult</c> it returned, e.g. 6 (<c>NVRTC_ERROR_COMPILATION</c>).</param>
    /// <param name="nativeName">NVRTC's name for the code (<c>nvrtcGetErrorString</c>).</param>
    /// <param name="nativeMessage">A description of the code; may be empty.</param>
    /// <param name="log">The program log (<c>nvrtcGetProgramLog</c>); may be empty.</param>
    public CudaCompilationException(string api, int code, string nativeName, string nativeMessage, string log)
        : base(NvrtcLibrary, api, code, nativeName, nativeMessage, FormatCompilationMessage(api, code, nativeName, nativeMessage, log))
    {
        Log = log;
    }

    /// <summary>Gets the compiler's log (errors and warnings with line numbers); empty when NVRTC gave none.</summary>
    public string Log { get; } = string.Empty;

    private static string FormatCompilationMessage(string api, int code, string nativeName, string nativeMessage, string log)
    {
        string message = FormatMessage(api, code, nativeName, nativeMessage);
        string trimmed = log.Trim();
        if (trimmed.Length == 0)
        {
            return message;
        }

        // A long log would drown the first error, which is what a reader needs; the full text stays in Log.
        return trimmed.Length <= MessageLogLimit
            ? message + Environment.NewLine + trimmed
            : message + Environment.NewLine + trimmed[..MessageLogLimit] + Environment.NewLine + "... (log truncated; see CudaCompilationException.Log)";
    }
}
