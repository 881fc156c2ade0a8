using Artifex.Cuda.Native;

namespace Artifex.Cuda.Tests.Native;

public sealed class CudaLibraryLoaderTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void TryLoad_OverrideVariable_LoadsThatFile_AndTriesNothingElse()
    {
        string fake = _temp.CopyLoadable("override/libnccl.so.2");
        var loader = new CudaLibraryLoader(FakeEnvironment.Of(("ARTIFEX_LIBNCCL", fake)));

        Assert.True(loader.TryLoad(CudaLibrary.Nccl, out nint handle, out string? reason), reason);

        Assert.NotEqual(0, handle);
        Assert.Null(reason);
        Assert.Equal(fake, loader.Get(CudaLibrary.Nccl).Path);
        Assert.Equal([fake], loader.Get(CudaLibrary.Nccl).Tried);
    }

    [Fact]
    public void TryLoad_LibPathFolders_SkipMissingFolders_AndLoadFromTheFirstThatHasTheFile()
    {
        string fake = _temp.CopyLoadable("libs/libnccl.so.2");
        string missing = Path.Combine(_temp.Path, "missing");
        var loader = new CudaLibraryLoader(FakeEnvironment.Of(("ARTIFEX_CUDA_LIB_PATH", missing + ":" + Path.GetDirectoryName(fake))));

        Assert.True(loader.TryLoad(CudaLibrary.Nccl, out _, out string? reason), reason);

        CudaLibraryLoadResult result = loader.Get(CudaLibrary.Nccl);
        Assert.Equal(fake, result.Path);
        Assert.Equal([Path.Combine(missing, "libnccl.so.2"), fake], result.Tried);
    }

    [Fact]
    public void TryLoad_WheelFolderUnderSitePackages_Loads()
    {
        string site = _temp.Folder("venv/lib/python3.12/site-packages");
        string fake = _temp.CopyLoadable("venv/lib/python3.12/site-packages/nvidia/nccl/lib/libnccl.so.2");
        var loader = new CudaLibraryLoader(FakeEnvironment.Of(("VIRTUAL_ENV", Path.Combine(_temp.Path, "venv"))));

        Assert.True(loader.TryLoad(CudaLibrary.Nccl, out _, out string? reason), reason);
        Assert.Equal(fake, loader.Get(CudaLibrary.Nccl).Path);
        Assert.StartsWith(site, fake, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_IsCachedAndThreadSafe_OneOutcomePerLibrary()
    {
        string fake = _temp.CopyLoadable("libnccl.so.2");
        var loader = new CudaLibraryLoader(FakeEnvironment.Of(("ARTIFEX_LIBNCCL", fake)));

        CudaLibraryLoadResult[] results = new CudaLibraryLoadResult[8];
        Parallel.For(0, results.Length, i => results[i] = loader.Get(CudaLibrary.Nccl));

        Assert.All(results, r => Assert.Same(results[0], r));
        Assert.True(loader.TryLoad(CudaLibrary.Nccl, out nint first, out _));
        Assert.True(loader.TryLoad(CudaLibrary.Nccl, out nint second, out _));
        Assert.Equal(first, second);
    }

    [Fact]
    public void Load_NonElfFile_GivesFailedToLoadReason_NamingThePathAndDlerror()
    {
        string garbage = _temp.WriteGarbage("bad/libcublas.so.13");

        CudaLibraryLoadResult result = CudaLibraryLoader.Load(CudaLibrary.Cublas, [garbage, Path.Combine(_temp.Path, "absent/libcublas.so.13")]);

        Assert.False(result.IsLoaded);
        Assert.Equal(0, result.Handle);
        Assert.NotNull(result.Reason);
        Assert.StartsWith($"libcublas.so.13 found at {garbage} but failed to load: ", result.Reason, StringComparison.Ordinal);

        // The dlerror text (e.g. "invalid ELF header"), not the runtime's long advice about strace and LD_DEBUG.
        Assert.DoesNotContain("strace", result.Reason, StringComparison.Ordinal);
        Assert.Contains(garbage, result.Reason[$"libcublas.so.13 found at {garbage}".Length..], StringComparison.Ordinal);
        Assert.Equal(2, result.Tried.Count);
    }

    [Fact]
    public void Load_BrokenCopyThenGoodCopy_LoadsTheGoodOne()
    {
        string garbage = _temp.WriteGarbage("bad/libnccl.so.2");
        string good = _temp.CopyLoadable("good/libnccl.so.2");

        CudaLibraryLoadResult result = CudaLibraryLoader.Load(CudaLibrary.Nccl, [garbage, good]);

        Assert.True(result.IsLoaded, result.Reason);
        Assert.Null(result.Reason);
        Assert.Equal(good, result.Path);
    }

    [Fact]
    public void Load_NothingAnywhere_GivesNotFoundReason_WithTriedPathsAndVariables()
    {
        string[] candidates = ["/nonexistent/a/libnccl.so.2", "/nonexistent/b/libnccl.so.2", "libnccl-artifex-test-absent.so.2"];

        CudaLibraryLoadResult result = CudaLibraryLoader.Load(CudaLibrary.Nccl, candidates);

        Assert.False(result.IsLoaded);
        Assert.Equal(
            "libnccl.so.2 not found (tried 3 paths: /nonexistent/a/libnccl.so.2, /nonexistent/b/libnccl.so.2, libnccl-artifex-test-absent.so.2; set ARTIFEX_LIBNCCL or ARTIFEX_CUDA_LIB_PATH)",
            result.Reason);
        Assert.Equal(candidates, result.Tried);
    }

    [Fact]
    public void NotFoundReason_ListsTwelvePaths_ThenCountsTheRest()
    {
        string[] tried = [.. Enumerable.Range(0, 20).Select(i => $"/dir{i}/libcublas.so.13")];

        string reason = CudaLibraryLoader.NotFoundReason(CudaLibrary.Cublas, tried);

        Assert.StartsWith("libcublas.so.13 or libcublas.so.12 not found (tried 20 paths: /dir0/libcublas.so.13, ", reason, StringComparison.Ordinal);
        Assert.Contains("/dir11/libcublas.so.13, ... (+8 more); set ARTIFEX_LIBCUBLAS or ARTIFEX_CUDA_LIB_PATH)", reason, StringComparison.Ordinal);
        Assert.DoesNotContain("/dir12/", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Cublas_PreloadsCublasLtFromTheSameFolder()
    {
        string lt = _temp.CopyLoadable("cu13/libcublasLt.so.13");
        string cublas = _temp.CopyLoadable("cu13/libcublas.so.13");

        CudaLibraryLoadResult result = CudaLibraryLoader.Load(CudaLibrary.Cublas, [cublas]);

        Assert.True(result.IsLoaded, result.Reason);
        Assert.Contains(lt, File.ReadAllText("/proc/self/maps"), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Nvrtc_PreloadsTheBuiltinsOfTheSameMajor()
    {
        string builtins = _temp.CopyLoadable("nvrtc/libnvrtc-builtins.so.13.0");
        string other = _temp.CopyLoadable("nvrtc/libnvrtc-builtins.so.12.9");
        string nvrtc = _temp.CopyLoadable("nvrtc/libnvrtc.so.13");

        CudaLibraryLoadResult result = CudaLibraryLoader.Load(CudaLibrary.Nvrtc, [nvrtc]);

        Assert.True(result.IsLoaded, result.Reason);
        string maps = File.ReadAllText("/proc/self/maps");
        Assert.Contains(builtins, maps, StringComparison.Ordinal);
        Assert.DoesNotContain(other, maps, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_OtherNames_AreLeftToTheRuntime()
    {
        Assert.Equal(0, CudaLibraries.Resolve("libc", typeof(CudaLibraries).Assembly, null));
    }

    [Fact]
    public void ProcessWideTryLoad_EitherLoadsOrGivesAReason_NeverThrows()
    {
        foreach (CudaLibrary library in Enum.GetValues<CudaLibrary>())
        {
            bool loaded = CudaLibraries.TryLoad(library, out string? reason);
            TestContext.Current.SendDiagnosticMessage($"{library}: {(loaded ? CudaLibraries.LoadedPath(library) : reason)}");
            Assert.Equal(loaded, reason is null);
            Assert.NotEmpty(CudaLibraries.TriedPaths(library));
            if (!loaded)
            {
                Assert.Contains(CudaLibraries.Sonames(library)[0], reason, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public unsafe void Binding_WhenItsLibraryIsMissing_ThrowsDllNotFound_WhichTryLoadAvoids()
    {
        Assert.SkipWhen(CudaLibraries.TryLoad(CudaLibrary.Nccl, out _), "NCCL loads on this machine.");

        Assert.Throws<DllNotFoundException>(() =>
        {
            int version;
            _ = Artifex.Cuda.Native.Nccl.ncclGetVersion(&version);
        });
    }
}
