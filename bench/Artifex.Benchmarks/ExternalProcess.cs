using System.ComponentModel;
using System.Diagnostics;

namespace Artifex.Benchmarks;

/// <summary>Runs the peer programs measured beside ours (gcc, the native peer, mpicc, mpirun) and finds their sources.</summary>
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

    /// <summary>Finds a file of <c>shared/</c> (which lies beside the repository) by walking up from the program's folder.</summary>
    public static string? FindShared(params string[] relativePath)
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine([dir.FullName, "shared", .. relativePath]);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
