namespace Artifex.Cpu.Tests;

/// <summary>Reads the repository's files and compares code in README.md with code compiled in the tests.</summary>
internal static class ReadmeText
{
    public static string Read(params string[] relativePath) => File.ReadAllText(Path.Combine([RepositoryRoot(), .. relativePath]));

    public static string Between(string text, string begin, string end)
    {
        int start = text.IndexOf(begin, StringComparison.Ordinal);
        Assert.True(start >= 0, $"'{begin}' not found");
        start += begin.Length;
        int stop = text.IndexOf(end, start, StringComparison.Ordinal);
        Assert.True(stop >= 0, $"'{end}' not found");
        return text[start..stop];
    }

    /// <summary>The non-empty lines, trimmed.</summary>
    public static string[] Lines(string text) => [.. text.Split('\n').Select(static l => l.Trim()).Where(static l => l.Length > 0)];

    /// <summary>The code lines of a README block, without its <c>using</c> directives (the compiled copy has them at the top of its file).</summary>
    public static string[] CodeLines(string block) =>
        [.. Lines(block).Where(static l => !(l.StartsWith("using ", StringComparison.Ordinal) && l.EndsWith(';') && l.IndexOf(' ', 6) < 0))];

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Artifex.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Artifex.sln not found above " + AppContext.BaseDirectory);
    }
}
