namespace Artifex.Cuda;

/// <summary>
/// A CUDA library could not allocate <b>device</b> memory: the driver's <c>CUDA_ERROR_OUT_OF_MEMORY</c> (2) or cuBLAS's
/// <c>CUBLAS_STATUS_ALLOC_FAILED</c> (3).
/// </summary>
/// <remarks>
/// This is GPU memory, not the managed heap, so it deliberately does not derive from <see cref="OutOfMemoryException"/>:
/// a caller can free device buffers (or shrink the batch) and retry, and the process itself is healthy.
/// </remarks>
public class CudaOutOfMemoryException : CudaException
{
    /// <summary>Initializes a new instance of the <see cref="CudaOutOfMemoryException"/> class.</summary>
    public CudaOutOfMemoryException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CudaOutOfMemoryException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public CudaOutOfMemoryException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CudaOutOfMemoryException"/> class with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public CudaOutOfMemoryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CudaOutOfMemoryException"/> class from a failed native call.</summary>
    /// <param name="library">The library that returned the code (<c>driver</c> or <c>cublas</c>).</param>
    /// <param name="api">The entry point that failed, e.g. <c>cuMemAlloc_v2</c>.</param>
    /// <param name="code">The numeric code the entry point returned.</param>
    /// <param name="nativeName">The library's name for the code.</param>
    /// <param name="nativeMessage">The library's description of the code; may be empty.</param>
    public CudaOutOfMemoryException(string library, string api, int code, string nativeName, string nativeMessage)
        : base(library, api, code, nativeName, nativeMessage)
    {
    }
}
