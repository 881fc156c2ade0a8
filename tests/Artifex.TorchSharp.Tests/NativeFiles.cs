using System.Reflection;
using Artifex.TorchSharp.Build;

namespace Artifex.TorchSharp.Tests;

/// <summary>The native files the tests read: TorchSharp's library in the NuGet cache and in the output, the system's libstdc++.</summary>
internal static class NativeFiles
{
    /// <summary>The version the build makes weak.</summary>
    public const string AnchorVersion = "GLIBCXX_3.4.32";

    private const string LibraryName = "libLibTorchSharp.so";

    /// <summary>Gets TorchSharp's Linux x64 library as the package has it (never written to).</summary>
    public static string PackageLibrary { get; } = Path.Combine(Metadata("TorchSharpPackage"), "runtimes", "linux-x64", "native", LibraryName);

    /// <summary>Gets the copy the build put next to these tests (portable build: under runtimes/linux-x64/native).</summary>
    public static string OutputLibrary { get; } = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", LibraryName);

    /// <summary>Gets the system's libstdc++ as the build step finds it (the first of its candidates that exists), or null.</summary>
    public static string? SystemLibStdCxx { get; } =
        Metadata("ArtifexSystemLibStdCxx").Split(';', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(File.Exists);

    /// <summary>Copies the package's library into a new temporary folder.</summary>
    /// <returns>The copy; the caller deletes its folder.</returns>
    public static string CopyOfPackageLibrary()
    {
        string folder = Directory.CreateTempSubdirectory("artifex-torchsharp-").FullName;
        string copy = Path.Combine(folder, LibraryName);
        File.Copy(PackageLibrary, copy);
        return copy;
    }

    /// <summary>The need of <paramref name="version"/> in a library.</summary>
    public static WeakenVersionNeed.ElfFile.VersionNeed Need(string library, string version = AnchorVersion) =>
        new WeakenVersionNeed.ElfFile(File.ReadAllBytes(library)).VersionNeeds().Single(n => string.Equals(n.Name, version, StringComparison.Ordinal));

    /// <summary>The offsets at which two files of the same length differ.</summary>
    public static long[] DifferingOffsets(byte[] before, byte[] after)
    {
        Assert.Equal(before.Length, after.Length);
        return [.. Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).Select(i => (long)i)];
    }

    private static string Metadata(string key) =>
        typeof(NativeFiles).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => string.Equals(a.Key, key, StringComparison.Ordinal)).Value
        ?? throw new InvalidOperationException($"The test assembly has no {key} metadata.");
}
