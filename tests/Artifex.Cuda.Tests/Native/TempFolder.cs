namespace Artifex.Cuda.Tests.Native;

/// <summary>A temporary folder for fake library layouts, removed on dispose (Linux lets a loaded library's file go).</summary>
internal sealed class TempFolder : IDisposable
{
    /// <summary>Loadable system libraries to copy under CUDA names: any real ELF shared object proves the loading path.</summary>
    private static readonly string[] s_loadableCandidates =
        ["/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib64/libz.so.1", "/usr/lib64/libz.so.1", "/lib/aarch64-linux-gnu/libz.so.1"];

    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "artifex-cuda-tests-" + Guid.NewGuid().ToString("N"));

    /// <summary>Gets a loadable system library, or skips the test where none is known.</summary>
    public static string LoadableLibrary()
    {
        string? found = s_loadableCandidates.FirstOrDefault(File.Exists);
        Assert.SkipWhen(found is null, "No known loadable system library (libz.so.1) on this machine.");
        return found!;
    }

    /// <summary>Creates a folder under the temporary folder and returns its full path.</summary>
    public string Folder(string relative) => Directory.CreateDirectory(System.IO.Path.Combine(Path, relative)).FullName;

    /// <summary>Copies a loadable library to <paramref name="relative"/> and returns the full path.</summary>
    public string CopyLoadable(string relative)
    {
        string target = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
        File.Copy(LoadableLibrary(), target, overwrite: true);
        return target;
    }

    /// <summary>Writes a file that is not an ELF object under a library's name.</summary>
    public string WriteGarbage(string relative)
    {
        string target = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
        File.WriteAllText(target, "this is not a shared library, only a file with a library's name; dlopen must refuse it.\n");
        return target;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }
}
