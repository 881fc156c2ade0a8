using System.ComponentModel;
using System.Diagnostics;
using System.Security.Cryptography;

namespace Artifex.Benchmarks;

/// <summary>Runs the peer programs measured beside ours (gcc, the native peers, mpicc, mpirun) and finds their sources in <c>bench/peers</c>.</summary>
internal static class ExternalProcess
{
    /// <summary>Runs a program to completion; false (with the reason logged) when it cannot start or exits non-zero. A null environment value removes the variable.</summary>
    public static bool TryRun(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment, TextWriter log, out string output)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach ((string key, string? value) in environment ?? new Dictionary<string, string?>(StringComparer.Ordinal))
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        try
        {
            using Process process = Process.Start(info)!;

            // Both pipes are drained at once: reading one to the end first can block on a full other pipe.
            Task<string> error = process.StandardError.ReadToEndAsync();
            output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                log.WriteLine($"# {file} exited with {process.ExitCode}: {error.Result.Trim()}");
            }

            return process.ExitCode == 0;
        }
        catch (Win32Exception error)
        {
            log.WriteLine($"# {file} could not start: {error.Message}");
            output = string.Empty;
            return false;
        }
    }

    /// <summary>
    /// Finds a peer's source in the repository's <c>bench/peers</c> folder: walks up from the program's folder to the one
    /// holding <c>Artifex.sln</c>. Null when the program does not run from a clone or the file is missing.
    /// </summary>
    public static string? FindPeer(params string[] relativePath)
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Artifex.sln")))
            {
                string candidate = Path.Combine([dir.FullName, "bench", "peers", .. relativePath]);
                return File.Exists(candidate) ? candidate : null;
            }
        }

        return null;
    }

    /// <summary>The repository-relative name of a peer file, for log lines.</summary>
    public static string PeerName(params string[] relativePath) => string.Join('/', ["bench", "peers", .. relativePath]);

    /// <summary>
    /// Where a peer built from <paramref name="source"/> goes: a temporary file named after the peer and a hash of the
    /// source, so an edited source (or another checkout's) never reuses a stale binary.
    /// </summary>
    public static string BinaryFor(string name, string source)
    {
        string hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(source)))[..12];
        return Path.Combine(Path.GetTempPath(), $"artifex-{name}-{hash}");
    }

    /// <summary>Whether a program of that name is in a folder of <c>PATH</c>.</summary>
    public static bool IsOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Any(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, program)));
}
