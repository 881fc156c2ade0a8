namespace Artifex.Testing;

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

    /// <summary>
    /// Asserts that the lines between <c>// example:NAME:begin</c> and <c>// example:NAME:end</c> in a test source file
    /// appear verbatim in README.md, in the code block that follows <c>&lt;!-- example:NAME --&gt;</c>.
    /// </summary>
    /// <param name="name">The example's name.</param>
    /// <param name="source">The test source file, relative to the repository root.</param>
    /// <param name="closing">A last README line the test needs after its checks (e.g. the <c>});</c> of a region).</param>
    public static void AssertExample(string name, string[] source, string? closing = null)
    {
        string code = Read(source);
        string readme = Read("README.md");
        string[] expected = Lines(Between(code, $"// example:{name}:" + "begin", $"// example:{name}:" + "end"));
        expected = closing is null ? expected : [.. expected, closing];
        string marker = $"<!-- example:{name} -->";
        int at = readme.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(at >= 0, $"README.md has no {marker}");
        Assert.Equal(expected, CodeLines(Between(readme[at..], "```csharp", "```")));
    }

    /// <summary>The code lines of a README block, without its <c>using</c> directives (the compiled copy has them at the top of its file).</summary>
    public static string[] CodeLines(string block) =>
        [.. Lines(block).Where(static l => !(l.StartsWith("using ", StringComparison.Ordinal) && l.EndsWith(';') && l.IndexOf(' ', 6) < 0))];

    /// <summary>Gets whether the tests run inside the repository (a published test bundle runs without it).</summary>
    public static bool RepositoryFound => FindRepositoryRoot() is not null;

    private static string RepositoryRoot() => FindRepositoryRoot() ?? throw new InvalidOperationException("Artifex.sln not found above " + AppContext.BaseDirectory);

    private static string? FindRepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Artifex.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
