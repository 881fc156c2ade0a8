using System.Runtime.InteropServices;

namespace Artifex.Mpi.Interop;

/// <summary>
/// The C library's environment: MPI reads its MCA parameters from the native environment, which .NET does not update
/// (<see cref="Environment.SetEnvironmentVariable(string, string)"/> changes only the runtime's own copy).
/// </summary>
#pragma warning disable IDE1006, CA1707, SA1300 // the C names
internal static unsafe partial class LibC
{
    [LibraryImport("libc")]
    public static partial byte* getenv(byte* name);

    [LibraryImport("libc")]
    public static partial int setenv(byte* name, byte* value, int overwrite);

    /// <summary>Sets a variable in the native environment unless it is set already.</summary>
    /// <param name="name">The name, NUL-terminated UTF-8 (a <c>u8</c> literal with a trailing <c>\0</c>).</param>
    /// <param name="value">The value, NUL-terminated UTF-8.</param>
    /// <returns><see langword="true"/> if this call set it.</returns>
    public static bool SetIfUnset(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        fixed (byte* n = name)
        fixed (byte* v = value)
        {
            return getenv(n) is null && setenv(n, v, 0) == 0;
        }
    }
}
