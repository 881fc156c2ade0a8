using System.Runtime.InteropServices;

namespace Artifex.Mpi.Interop;

/// <summary>
/// OpenMPI's binary interface: each predefined handle is the address of an exported global (<c>MPI_COMM_WORLD</c> is
/// <c>&amp;ompi_mpi_comm_world</c>), resolved once with <see cref="NativeLibrary.GetExport"/>.
/// </summary>
/// <remarks>The constants are those of OpenMPI 4.1's <c>mpi.h</c>; OpenMPI 5.0 keeps the same C ABI.</remarks>
internal sealed class OpenMpiAbi : IMpiAbi
{
    private OpenMpiAbi(nint library)
    {
        CommWorld = NativeLibrary.GetExport(library, "ompi_mpi_comm_world");
        CommSelf = NativeLibrary.GetExport(library, "ompi_mpi_comm_self");
        CommNull = NativeLibrary.GetExport(library, "ompi_mpi_comm_null");
        InfoNull = NativeLibrary.GetExport(library, "ompi_mpi_info_null");
        Byte = NativeLibrary.GetExport(library, "ompi_mpi_byte");
        UInt8 = NativeLibrary.GetExport(library, "ompi_mpi_uint8_t");
        Int32 = NativeLibrary.GetExport(library, "ompi_mpi_int");
        Int64 = NativeLibrary.GetExport(library, "ompi_mpi_int64_t");
        Float32 = NativeLibrary.GetExport(library, "ompi_mpi_float");
        Float64 = NativeLibrary.GetExport(library, "ompi_mpi_double");
        OpSum = NativeLibrary.GetExport(library, "ompi_mpi_op_sum");
        OpMax = NativeLibrary.GetExport(library, "ompi_mpi_op_max");
        OpMin = NativeLibrary.GetExport(library, "ompi_mpi_op_min");
        ErrorsReturn = NativeLibrary.GetExport(library, "ompi_mpi_errors_return");
    }

    /// <inheritdoc/>
    public string Name => "OpenMPI";

    /// <inheritdoc/>
    public nint CommWorld { get; }

    /// <inheritdoc/>
    public nint CommSelf { get; }

    /// <inheritdoc/>
    public nint CommNull { get; }

    /// <inheritdoc/>
    public nint InfoNull { get; }

    /// <inheritdoc/>
    public nint Byte { get; }

    /// <inheritdoc/>
    public nint UInt8 { get; }

    /// <inheritdoc/>
    public nint Int32 { get; }

    /// <inheritdoc/>
    public nint Int64 { get; }

    /// <inheritdoc/>
    public nint Float32 { get; }

    /// <inheritdoc/>
    public nint Float64 { get; }

    /// <inheritdoc/>
    public nint OpSum { get; }

    /// <inheritdoc/>
    public nint OpMax { get; }

    /// <inheritdoc/>
    public nint OpMin { get; }

    /// <inheritdoc/>
    public nint ErrorsReturn { get; }

    /// <inheritdoc/>
    public nint InPlace => 1; // #define MPI_IN_PLACE ((void *) 1)

    /// <inheritdoc/>
    public int Undefined => -32766; // #define MPI_UNDEFINED -32766

    /// <inheritdoc/>
    public int CommTypeShared => 0; // the first member of the split-type enum

    /// <inheritdoc/>
    public int ThreadSingle => 0;

    /// <inheritdoc/>
    public int ThreadFunneled => 1;

    /// <inheritdoc/>
    public int ThreadSerialized => 2;

    /// <inheritdoc/>
    public int ThreadMultiple => 3;

    /// <inheritdoc/>
    public int MaxErrorString => 256; // OPAL_MAX_ERROR_STRING

    /// <inheritdoc/>
    public int MaxLibraryVersionString => 256;

    /// <summary>Loads the library and resolves every handle, or says why that failed.</summary>
    /// <param name="libraryName">The library to load, normally <see cref="OpenMpi.LibraryName"/>.</param>
    /// <param name="abi">The handles, or <see langword="null"/> on failure.</param>
    /// <returns><see langword="null"/> on success; otherwise why the library cannot be used.</returns>
    public static string? TryCreate(string libraryName, out OpenMpiAbi? abi)
    {
        abi = null;
        if (!OperatingSystem.IsLinux())
        {
            return $"Artifex.Mpi binds OpenMPI's {libraryName}, which is only supported on Linux (this is {RuntimeInformation.OSDescription}).";
        }

        nint library;
        try
        {
            library = NativeLibrary.Load(libraryName);
        }
        catch (DllNotFoundException error)
        {
            return $"{libraryName} could not be loaded ({error.Message}); install OpenMPI 4.x (Debian/Ubuntu: apt-get install openmpi-bin).";
        }
        catch (BadImageFormatException error)
        {
            return $"{libraryName} is not a loadable library for this process ({error.Message}).";
        }

        if (!NativeLibrary.TryGetExport(library, "ompi_mpi_comm_world", out _))
        {
            return $"{libraryName} loads but exports no ompi_mpi_comm_world: it is not OpenMPI, the only MPI implementation Artifex.Mpi binds so far.";
        }

        try
        {
            abi = new OpenMpiAbi(library);
            return null;
        }
        catch (EntryPointNotFoundException error)
        {
            return $"{libraryName} lacks a predefined handle Artifex.Mpi needs ({error.Message}).";
        }
    }
}
