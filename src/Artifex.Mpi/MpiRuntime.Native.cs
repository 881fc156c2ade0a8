using System.Text;
using Artifex.Mpi.Interop;

namespace Artifex.Mpi;

// Loading the library, resolving the implementation's handles, and turning return codes into exceptions.
public static partial class MpiRuntime
{
    private static readonly Lazy<(IMpiAbi? Abi, string? Reason)> s_library = new(() => Load(OpenMpi.LibraryName));

    private static string? s_libraryVersion;

    /// <summary>Gets the handles of the loaded implementation, or why there are none.</summary>
    private static (IMpiAbi? Abi, string? Reason) Library => s_library.Value;

    /// <summary>Gets the handles of the loaded implementation.</summary>
    /// <exception cref="InvalidOperationException">OpenMPI cannot be loaded.</exception>
    internal static IMpiAbi Abi => Library.Abi ?? throw new InvalidOperationException($"MPI cannot be used: {Library.Reason}");

    /// <summary>Says why a library cannot serve as OpenMPI, or <see langword="null"/> when it can. Never throws.</summary>
    /// <param name="libraryName">A library name or path.</param>
    /// <returns>The reason, or <see langword="null"/>.</returns>
    internal static string? Probe(string libraryName) => Load(libraryName).Reason;

    /// <summary>Throws <see cref="MpiException"/> when an MPI call did not return <c>MPI_SUCCESS</c>.</summary>
    /// <param name="code">The return code.</param>
    /// <param name="api">The entry point, e.g. <c>MPI_Allreduce</c>.</param>
    internal static void Check(int code, string api)
    {
        if (code != OpenMpi.Success)
        {
            throw new MpiException(api, code, ErrorString(code));
        }
    }

    /// <summary>The text of <c>MPI_Error_string</c> for a code, e.g. <c>MPI_ERR_ROOT: invalid root</c>.</summary>
    /// <param name="code">An MPI error code.</param>
    /// <returns>The text; a fallback naming the code when MPI cannot describe it.</returns>
    internal static unsafe string ErrorString(int code)
    {
        int capacity = Abi.MaxErrorString;
        byte* text = stackalloc byte[capacity + 1];
        int length = 0;
        return OpenMpi.MPI_Error_string(code, text, &length) == OpenMpi.Success && length > 0
            ? Decode(text, Math.Min(length, capacity))
            : "unknown MPI error";
    }

    /// <summary>Whether MPI has been finalized in this process (<see langword="false"/> when the library is absent).</summary>
    internal static unsafe bool IsFinalized()
    {
        if (Library.Abi is null)
        {
            return false;
        }

        int flag = 0;
        return OpenMpi.MPI_Finalized(&flag) == OpenMpi.Success && flag != 0;
    }

    private static unsafe string ReadLibraryVersion()
    {
        int capacity = Abi.MaxLibraryVersionString;
        byte* text = stackalloc byte[capacity + 1];
        int length = 0;
        Check(OpenMpi.MPI_Get_library_version(text, &length), "MPI_Get_library_version");
        return Decode(text, Math.Clamp(length, 0, capacity));
    }

    /// <summary>Decodes an MPI string; its reported length counts the trailing NUL, which must not reach logs.</summary>
    private static unsafe string Decode(byte* text, int length) =>
        Encoding.UTF8.GetString(text, length).TrimEnd('\0').Trim();

    private static (IMpiAbi? Abi, string? Reason) Load(string libraryName)
    {
        string? reason = OpenMpiAbi.TryCreate(libraryName, out OpenMpiAbi? abi);
        return (abi, reason);
    }
}
