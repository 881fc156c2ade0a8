using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Artifex.Cuda.Native;

/// <summary>
/// Turns the status codes of the driver API, cuBLAS, NCCL and NVRTC into exceptions. The check itself inlines to one
/// compare; the name lookup and the throw live in separate, never-inlined methods, so a successful call allocates nothing.
/// </summary>
internal static unsafe class CudaCheck
{
    /// <summary>
    /// The driver codes cuda.h documents as sticky ("the process must be terminated and relaunched"), from the CUDA 12.x
    /// <c>CUresult</c> comments. 710 (assert) says the context "cannot be used anymore"; with primary contexts that is the
    /// same outcome.
    /// </summary>
    private static readonly int[] s_stickyDriverCodes = [226, 700, 702, 710, 714, 715, 716, 717, 718, 719, 721, 810, 911];

    /// <summary>Returns when <paramref name="result"/> is success; otherwise throws the mapped <see cref="CudaException"/>.</summary>
    /// <param name="result">The driver API's return code.</param>
    /// <param name="api">The entry point, e.g. <c>cuMemAlloc_v2</c>.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Driver(CuResult result, string api)
    {
        if (result != CuResult.Success)
        {
            ThrowDriver(result, api);
        }
    }

    /// <summary>Returns when <paramref name="status"/> is success; otherwise throws the mapped <see cref="CudaException"/>.</summary>
    /// <param name="status">cuBLAS's return code.</param>
    /// <param name="api">The entry point, e.g. <c>cublasSgemm_v2</c>.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Blas(CublasStatus status, string api)
    {
        if (status != CublasStatus.Success)
        {
            ThrowBlas(status, api);
        }
    }

    /// <summary>Returns when <paramref name="result"/> is success; otherwise throws an <see cref="NcclException"/>.</summary>
    /// <param name="result">NCCL's return code.</param>
    /// <param name="api">The entry point, e.g. <c>ncclAllReduce</c>.</param>
    /// <param name="comm">The communicator involved, or 0 when none is known.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Nccl(NcclResult result, string api, nint comm = 0)
    {
        if (result != NcclResult.Success)
        {
            ThrowNccl(result, api, comm);
        }
    }

    /// <summary>Returns when <paramref name="result"/> is success; otherwise throws the mapped <see cref="CudaException"/>.</summary>
    /// <param name="result">NVRTC's return code.</param>
    /// <param name="api">The entry point, e.g. <c>nvrtcCreateProgram</c>.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Nvrtc(NvrtcResult result, string api)
    {
        if (result != NvrtcResult.Success)
        {
            ThrowNvrtc(result, api);
        }
    }

    /// <summary>Builds the exception for a failed <c>nvrtcCompileProgram</c>, carrying the program log.</summary>
    /// <param name="result">NVRTC's return code.</param>
    /// <param name="api">The entry point.</param>
    /// <param name="log">The program log.</param>
    /// <returns>The exception to throw.</returns>
    public static CudaCompilationException CompilationFailed(NvrtcResult result, string api, string log) =>
        new(api, (int)result, NvrtcName(result), string.Empty, log);

    /// <summary>Builds the exception for a failed driver call, with the driver's own name and description of the code.</summary>
    /// <param name="result">The driver API's return code.</param>
    /// <param name="api">The entry point.</param>
    /// <returns>The exception to throw.</returns>
    public static CudaException DriverError(CuResult result, string api) =>
        Create(CudaException.DriverLibrary, api, (int)result, DriverName(result), DriverMessage(result));

    /// <summary>
    /// Maps a failed call to its exception type: driver 2 and cuBLAS 3 to <see cref="CudaOutOfMemoryException"/>, sticky
    /// driver codes to <see cref="CudaDeviceFaultedException"/>, every NCCL code to <see cref="NcclException"/>, NVRTC 6
    /// (compilation) to <see cref="CudaCompilationException"/>, anything else to <see cref="CudaException"/>.
    /// </summary>
    /// <param name="library">The library: <c>driver</c>, <c>cublas</c>, <c>nccl</c> or <c>nvrtc</c>.</param>
    /// <param name="api">The entry point that failed.</param>
    /// <param name="code">The numeric code it returned.</param>
    /// <param name="name">The library's name for the code.</param>
    /// <param name="message">The library's description of the code; may be empty.</param>
    /// <param name="lastError">NCCL's <c>ncclGetLastError</c> text, or <see langword="null"/>.</param>
    /// <param name="log">NVRTC's program log, or <see langword="null"/>.</param>
    /// <returns>The exception to throw.</returns>
    internal static CudaException Create(string library, string api, int code, string name, string message, string? lastError = null, string? log = null) =>
        library switch
        {
            CudaException.DriverLibrary when code == (int)CuResult.OutOfMemory => new CudaOutOfMemoryException(library, api, code, name, message),
            CudaException.DriverLibrary when IsSticky(code) => new CudaDeviceFaultedException(library, api, code, name, message),
            CudaException.CublasLibrary when code == (int)CublasStatus.AllocFailed => new CudaOutOfMemoryException(library, api, code, name, message),
            CudaException.NcclLibrary => new NcclException(api, code, name, message, lastError),
            CudaException.NvrtcLibrary when code == (int)NvrtcResult.Compilation => new CudaCompilationException(api, code, name, message, log ?? string.Empty),
            _ => new CudaException(library, api, code, name, message),
        };

    /// <summary>Gets a value indicating whether a driver code leaves the context unusable until the process restarts.</summary>
    /// <param name="code">The <c>CUresult</c>.</param>
    /// <returns><see langword="true"/> for the sticky codes.</returns>
    internal static bool IsSticky(int code) => Array.IndexOf(s_stickyDriverCodes, code) >= 0;

    /// <summary>The driver's name for a code (<c>cuGetErrorName</c>), or a name derived from the enum when the lookup fails.</summary>
    /// <param name="result">The code.</param>
    /// <returns>E.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>.</returns>
    internal static string DriverName(CuResult result)
    {
        try
        {
            byte* name = null;
            if (CuDriver.cuGetErrorName(result, &name) == CuResult.Success && name != null)
            {
                return Utf8(name);
            }
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException)
        {
            // The lookup must never mask the original error: fall back to the enum's name.
        }

        return FallbackName(result, "CUDA_SUCCESS", "CUDA_ERROR_", "CUresult");
    }

    /// <summary>Builds a name from an enum member in the library's style, e.g. <c>OutOfMemory</c> → <c>CUDA_ERROR_OUT_OF_MEMORY</c>.</summary>
    /// <typeparam name="TEnum">The status enum.</typeparam>
    /// <param name="value">The code.</param>
    /// <param name="success">The name of code 0.</param>
    /// <param name="prefix">The prefix of error names.</param>
    /// <param name="typeName">The C type name, used for codes the enum does not name.</param>
    /// <returns>The name.</returns>
    internal static string FallbackName<TEnum>(TEnum value, string success, string prefix, string typeName)
        where TEnum : struct, Enum
    {
        int code = Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
        if (code == 0)
        {
            return success;
        }

        if (!Enum.IsDefined(value))
        {
            return typeName + " " + code.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        string member = value.ToString();
        var builder = new StringBuilder(prefix, prefix.Length + (member.Length * 2));
        for (int i = 0; i < member.Length; i++)
        {
            if (i > 0 && char.IsUpper(member[i]))
            {
                builder.Append('_');
            }

            builder.Append(char.ToUpperInvariant(member[i]));
        }

        return builder.ToString();
    }

    private static string DriverMessage(CuResult result)
    {
        try
        {
            byte* message = null;
            if (CuDriver.cuGetErrorString(result, &message) == CuResult.Success && message != null)
            {
                return Utf8(message);
            }
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException)
        {
            // No description rather than a second exception that hides the first.
        }

        return string.Empty;
    }

    private static string BlasName(CublasStatus status) =>
        CallString(() => (nint)Cublas.cublasGetStatusName(status)) ?? FallbackName(status, "CUBLAS_STATUS_SUCCESS", "CUBLAS_STATUS_", "cublasStatus_t");

    private static string NcclName(NcclResult result) =>
        Enum.IsDefined(result) ? "nccl" + result.ToString() : "ncclResult_t " + ((int)result).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string NvrtcName(NvrtcResult result) =>
        CallString(() => (nint)Native.Nvrtc.nvrtcGetErrorString(result)) ?? FallbackName(result, "NVRTC_SUCCESS", "NVRTC_ERROR_", "nvrtcResult");

    /// <summary>Calls a native function returning a C string, or gives <see langword="null"/> when the library or entry point is missing.</summary>
    private static string? CallString(Func<nint> call)
    {
        try
        {
            nint pointer = call();
            return pointer == 0 ? null : Utf8((byte*)pointer);
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    private static string Utf8(byte* text) => Marshal.PtrToStringUTF8((nint)text) ?? string.Empty;

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDriver(CuResult result, string api) => throw DriverError(result, api);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBlas(CublasStatus status, string api)
    {
        string name = BlasName(status);
        string message = CallString(() => (nint)Cublas.cublasGetStatusString(status)) ?? string.Empty;
        throw Create(CudaException.CublasLibrary, api, (int)status, name, message);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNccl(NcclResult result, string api, nint comm)
    {
        string message = CallString(() => (nint)Native.Nccl.ncclGetErrorString(result)) ?? string.Empty;

        // NCCL documents comm as unused ("can be set to NULL"): the last error is per thread, so it is worth reading
        // even for the init calls that have no communicator yet, which is where its detail helps most.
        string? lastError = CallString(() => (nint)Native.Nccl.ncclGetLastError(comm))?.Trim();
        throw Create(CudaException.NcclLibrary, api, (int)result, NcclName(result), message, string.IsNullOrEmpty(lastError) ? null : lastError);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNvrtc(NvrtcResult result, string api) =>
        throw Create(CudaException.NvrtcLibrary, api, (int)result, NvrtcName(result), string.Empty);
}
