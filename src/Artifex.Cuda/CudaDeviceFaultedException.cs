namespace Artifex.Cuda;

/// <summary>
/// The CUDA driver returned a <i>sticky</i> error: a kernel faulted (illegal address, illegal instruction, misaligned
/// address, device-side assert, ...) and the context is now unusable. Every later CUDA call in this process returns the
/// same error, so the process must be restarted to use the GPU again.
/// </summary>
/// <remarks>
/// cuda.h documents these codes with "This leaves the process in an inconsistent state and any further CUDA work will
/// return the same error. To continue using CUDA, the process must be terminated and relaunched."
/// </remarks>
public class CudaDeviceFaultedException : CudaException
{
    private const string RestartAdvice = " The CUDA context is now unusable and every later CUDA call will fail: the process must be restarted to use the GPU again.";

    /// <summary>Initializes a new instance of the <see cref="CudaDeviceFaultedException"/> class.</summary>
    public CudaDeviceFaultedException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CudaDeviceFaultedException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public CudaDeviceFaultedException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CudaDeviceFaultedException"/> class with a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public CudaDeviceFaultedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CudaDeviceFaultedException"/> class from a failed native call.</summary>
    /// <param name="library">The library that returned the code (<c>driver</c>).</param>
    /// <param name="api">The entry point that reported the fault; often a later synchronising call, not the faulting kernel.</param>
    /// <param name="code">The sticky <c>CUresult</c>, e.g. 700 (<c>CUDA_ERROR_ILLEGAL_ADDRESS</c>).</param>
    /// <param name="nativeName">The driver's name for the code.</param>
    /// <param name="nativeMessage">The driver's description of the code; may be empty.</param>
    public CudaDeviceFaultedException(string library, string api, int code, string nativeName, string nativeMessage)
        : base(library, api, code, nativeName, nativeMessage, FormatMessage(api, code, nativeName, nativeMessage) + RestartAdvice)
    {
    }
}
