using System.Runtime.InteropServices;
using TorchSharp;

namespace Artifex.TorchSharp;

/// <summary>
/// Whether TorchSharp's native backend (libtorch and TorchSharp's own <c>libLibTorchSharp</c>) loads in this process,
/// and if not, why.
/// </summary>
/// <remarks>
/// TorchSharp loads libtorch in the static constructor of <see cref="torch"/>. When that fails, every later use of
/// TorchSharp throws a <see cref="TypeInitializationException"/> whose message lists TorchSharp's search but not the
/// loader's reason (on Linux often a missing symbol version of libstdc++). This class makes the attempt once, keeps the
/// outcome, and turns a failure into one line that names the reason.
/// </remarks>
public static class TorchSharpEnvironment
{
    private const string NativeLibraryName = "LibTorchSharp";

    private static readonly Lazy<(string? Reason, Exception? Error)> s_load = new(Load);

    /// <summary>Gets a value indicating whether libtorch is loaded in this process; the first use loads it.</summary>
    public static bool IsAvailable => s_load.Value.Error is null;

    /// <summary>Gets why libtorch did not load, in one line, or <see langword="null"/> when it did; the first use loads it.</summary>
    public static string? UnavailableReason => s_load.Value.Reason;

    /// <summary>Loads libtorch if that has not been tried yet, and throws if it did not load.</summary>
    /// <exception cref="InvalidOperationException">libtorch did not load; the message says why, the inner exception is TorchSharp's.</exception>
    public static void EnsureAvailable()
    {
        (string? reason, Exception? error) = s_load.Value;
        if (error is not null)
        {
            throw new InvalidOperationException($"TorchSharp cannot be used: {reason}", error);
        }
    }

    /// <summary>
    /// Picks the loader's reasons out of the message of a <see cref="DllNotFoundException"/> for
    /// <c>LibTorchSharp</c>: on Linux its first line is generic and each further line is one path the runtime tried;
    /// the paths where no file exists say nothing, the others carry the loader's error.
    /// </summary>
    /// <param name="message">The exception's message.</param>
    /// <returns>The reasons joined into one line, or <see langword="null"/> when the message names none.</returns>
    internal static string? LoaderReason(string message)
    {
        const string NoFile = ": cannot open shared object file: No such file or directory";
        string[] reasons =
        [
            .. message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Skip(1)
                .Where(line => !(line.EndsWith(NoFile, StringComparison.Ordinal) && IsProbedPath(line[..^NoFile.Length])))
                .Distinct(StringComparer.Ordinal),
        ];
        return reasons.Length == 0 ? null : string.Join("; ", reasons);
    }

    private static bool IsProbedPath(string path) =>
        Path.GetFileName(path).StartsWith(NativeLibraryName, StringComparison.Ordinal) ||
        Path.GetFileName(path).StartsWith("lib" + NativeLibraryName, StringComparison.Ordinal);

    private static (string? Reason, Exception? Error) Load()
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            return (null, null);
        }
        catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return (Describe(e), e);
        }
    }

    /// <summary>The loader's reason where it can be had, else the first line of TorchSharp's innermost message.</summary>
    private static string Describe(Exception error)
    {
        if (ProbeLoader() is { } reason)
        {
            return $"lib{NativeLibraryName} did not load: {reason}";
        }

        Exception innermost = error;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        string message = innermost.Message.Trim();
        int end = message.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? message : message[..end].TrimEnd();
    }

    /// <summary>
    /// TorchSharp has given up on the library by now; asking the runtime to load it the same way (next to TorchSharp.dll,
    /// then the application's runtimes folder) gives the loader's own error for each path it tried.
    /// </summary>
    /// <returns>The loader's reasons, or <see langword="null"/> when the library loads or no file of that name exists.</returns>
    private static string? ProbeLoader()
    {
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(NativeLibraryName, typeof(torch).Assembly, null));
            return null;
        }
        catch (DllNotFoundException e)
        {
            return LoaderReason(e.Message);
        }
    }
}
