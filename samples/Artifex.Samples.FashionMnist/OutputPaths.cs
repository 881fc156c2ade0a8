namespace Artifex.Samples.FashionMnist;

/// <summary>
/// Checks, before any training, that the run will be able to write its outputs: the output folder and the parameters
/// file. Each check returns one line naming the option and the path, or null.
/// </summary>
internal static class OutputPaths
{
    /// <summary>The files the run writes into <see cref="TrainingOptions.OutputDirectory"/>.</summary>
    public static readonly IReadOnlyList<string> OutputFiles = ["training.png", "summary.json"];

    /// <summary>Checks that the folder exists or can be created, that it can be written to, and that no expected file name is taken by a folder.</summary>
    /// <param name="option">The option's name, for the message.</param>
    /// <param name="path">The folder.</param>
    /// <param name="files">The file names the run writes into the folder.</param>
    /// <returns>The problem, or null.</returns>
    public static string? CheckFolder(string option, string path, IReadOnlyList<string> files)
    {
        if (!TryGetFullPath(path, out string full, out string? problem))
        {
            return $"{option} '{path}': {problem}";
        }

        if (File.Exists(full))
        {
            return $"{option} '{path}': is a file; a folder is expected.";
        }

        if (Directory.Exists(full))
        {
            foreach (string file in files)
            {
                if (Directory.Exists(Path.Combine(full, file)))
                {
                    return $"{option} '{path}': '{file}' there is a folder, but the run writes a file by that name.";
                }
            }

            return CheckWritable(option, path, full);
        }

        // The folder is created at the end of the run: its nearest existing ancestor must be a folder that can be written.
        string? ancestor = Path.GetDirectoryName(full);
        while (ancestor is not null && !Directory.Exists(ancestor))
        {
            if (File.Exists(ancestor))
            {
                return $"{option} '{path}': '{ancestor}' is a file, so the folder cannot be created.";
            }

            ancestor = Path.GetDirectoryName(ancestor);
        }

        return ancestor is null ? $"{option} '{path}': no existing folder above it." : CheckWritable(option, path, ancestor);
    }

    /// <summary>Checks that a file can be written: not a folder, its folder exists, and the file (or a new file there) opens for writing.</summary>
    /// <param name="option">The option's name, for the message.</param>
    /// <param name="path">The file.</param>
    /// <returns>The problem, or null.</returns>
    public static string? CheckFile(string option, string path)
    {
        if (!TryGetFullPath(path, out string full, out string? problem))
        {
            return $"{option} '{path}': {problem}";
        }

        if (Directory.Exists(full))
        {
            return $"{option} '{path}': is a folder; a file is expected.";
        }

        string? folder = Path.GetDirectoryName(full);
        if (folder is null || !Directory.Exists(folder))
        {
            return $"{option} '{path}': the folder '{folder}' does not exist.";
        }

        if (!File.Exists(full))
        {
            return CheckWritable(option, path, folder);
        }

        try
        {
            // Opening for writing without truncating proves access and leaves the file as it is.
            using var stream = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            return null;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return $"{option} '{path}': cannot be written ({e.Message}).";
        }
    }

    private static bool TryGetFullPath(string path, out string full, out string? problem)
    {
        full = string.Empty;
        problem = null;
        if (string.IsNullOrWhiteSpace(path))
        {
            problem = "an empty path.";
            return false;
        }

        try
        {
            full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
            return true;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            problem = $"not a valid path ({e.Message}).";
            return false;
        }
    }

    /// <summary>Creates and deletes a probe file in <paramref name="folder"/>.</summary>
    private static string? CheckWritable(string option, string path, string folder)
    {
        string probe = Path.Combine(folder, $".artifex-write-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            return null;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return $"{option} '{path}': cannot write in '{folder}' ({e.Message}).";
        }
    }
}
