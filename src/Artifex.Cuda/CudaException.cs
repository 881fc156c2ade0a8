using System.Globalization;

namespace Artifex.Cuda;

/// <summary>
/// A call into a CUDA library (the driver API, cuBLAS, NCCL or NVRTC) returned an error code.
/// </summary>
/// <remarks>
/// The message reads <c>cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory</c>: the entry point, the
/// library's own name for the code, the code, and the library's description of it.
/// </remarks>
public class CudaException : Exception
{
    /// <summary>The <see cref="Library"/> of an error returned by the CUDA driver API (<c>libcuda</c>).</summary>
    public const string DriverLibrary = "driver";

    /// <summary>The <see cref="Library"/> of an error returned by cuBLAS.</summary>
    public const string CublasLibrary = "cublas";

    /// <summary>The <see cref="Library"/> of an error returned by NCCL.</summary>
    public const string NcclLibrary = "nccl";

    /// <summary>The <see cref="Library"/> of an error returned by NVRTC.</summary>
    public const string NvrtcLibrary = "nvrtc";

    /// <summary>Initializes a new instance of the <see cref="CudaException"/> class.</summary>
    public CudaException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CudaException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public CudaException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CudaException"/> class with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public CudaException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CudaException"/> class from a failed native call.</summary>
    /// <param name="library">The library that returned the code: <see cref="DriverLibrary"/>, <see cref="CublasLibrary"/>, <see cref="NcclLibrary"/> or <see cref="NvrtcLibrary"/>.</param>
    /// <param name="api">The entry point that failed, e.g. <c>cuMemAlloc_v2</c>.</param>
    /// <param name="code">The numeric code the entry point returned.</param>
    /// <param name="nativeName">The library's name for the code, e.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>.</param>
    /// <param name="nativeMessage">The library's description of the code, e.g. <c>out of memory</c>; may be empty.</param>
    public CudaException(string library, string api, int code, string nativeName, string nativeMessage)
        : this(library, api, code, nativeName, nativeMessage, FormatMessage(api, code, nativeName, nativeMessage))
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CudaException"/> class from a failed native call, with a message of the subclass's own.</summary>
    /// <param name="library">The library that returned the code.</param>
    /// <param name="api">The entry point that failed.</param>
    /// <param name="code">The numeric code the entry point returned.</param>
    /// <param name="nativeName">The library's name for the code.</param>
    /// <param name="nativeMessage">The library's description of the code; may be empty.</param>
    /// <param name="message">The full message.</param>
    protected CudaException(string library, string api, int code, string nativeName, string nativeMessage, string message)
        : base(message)
    {
        Library = library;
        Api = api;
        Code = code;
        NativeName = nativeName;
        NativeMessage = nativeMessage;
    }

    /// <summary>Gets the library that returned the code: <c>driver</c>, <c>cublas</c>, <c>nccl</c> or <c>nvrtc</c>; empty when unknown.</summary>
    public string Library { get; } = string.Empty;

    /// <summary>Gets the entry point that failed, e.g. <c>cuMemAlloc_v2</c>; empty when unknown.</summary>
    public string Api { get; } = string.Empty;

    /// <summary>Gets the numeric code the entry point returned (<c>CUresult</c>, <c>cublasStatus_t</c>, <c>ncclResult_t</c> or <c>nvrtcResult</c>).</summary>
    public int Code { get; }

    /// <summary>Gets the library's name for the code, e.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>; empty when unknown.</summary>
    public string NativeName { get; } = string.Empty;

    /// <summary>Gets the library's description of the code, e.g. <c>out of memory</c>; empty when unknown.</summary>
    public string NativeMessage { get; } = string.Empty;

    /// <summary>Formats the standard message, <c>api failed: NAME (code): description</c>.</summary>
    /// <param name="api">The entry point that failed.</param>
    /// <param name="code">The numeric code.</param>
    /// <param name="nativeName">The library's name for the code.</param>
    /// <param name="nativeMessage">The library's description; left out when empty or the same as the name (NVRTC has only names).</param>
    /// <returns>The message.</returns>
    protected static string FormatMessage(string api, int code, string nativeName, string nativeMessage)
    {
        string head = string.Create(CultureInfo.InvariantCulture, $"{api} failed: {nativeName} ({code})");
        return string.IsNullOrEmpty(nativeMessage) || string.Equals(nativeMessage, nativeName, StringComparison.Ordinal)
            ? head
            : head + ": " + nativeMessage;
    }
}
