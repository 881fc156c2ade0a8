using Artifex.Cuda.Native;

namespace Artifex.Cuda.Tests.Native;

public sealed class CudaLibraryCandidateTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void CandidatePaths_Nccl_OverrideThenLibPathThenWheelsThenSystemThenSoname()
    {
        string explicitSite = _temp.Folder("explicit-site");
        string venvSite = _temp.Folder("venv/lib/python3.12/site-packages");
        string pathSite = _temp.Folder("image/lib/python3.12/site-packages");
        Dictionary<string, string> env = new(StringComparer.Ordinal)
        {
            ["ARTIFEX_LIBNCCL"] = "/opt/override/libnccl.so.2",
            ["ARTIFEX_CUDA_LIB_PATH"] = "/first:/second",
            ["ARTIFEX_SITE_PACKAGES"] = explicitSite,
            ["VIRTUAL_ENV"] = Path.Combine(_temp.Path, "venv"),
            ["PATH"] = "/nowhere/sbin:" + Path.Combine(_temp.Path, "image", "bin") + "/",
            ["CUDA_HOME"] = "/opt/cuda-home",
            ["CUDA_PATH"] = "/opt/cuda-path",
        };

        IReadOnlyList<string> paths = CudaLibraries.CandidatePaths(CudaLibrary.Nccl, name => env.GetValueOrDefault(name));

        string[] expectedOrder =
        [
            "/opt/override/libnccl.so.2",
            "/first/libnccl.so.2",
            "/second/libnccl.so.2",
            Path.Combine(explicitSite, "nvidia/nccl/lib/libnccl.so.2"),
            Path.Combine(venvSite, "nvidia/nccl/lib/libnccl.so.2"),
            Path.Combine(pathSite, "nvidia/nccl/lib/libnccl.so.2"),
            "/opt/cuda-home/lib64/libnccl.so.2",
            "/opt/cuda-path/lib64/libnccl.so.2",
            "/usr/local/cuda/lib64/libnccl.so.2",
            "/usr/local/nvidia/lib64/libnccl.so.2",
            "/usr/lib/x86_64-linux-gnu/libnccl.so.2",
            "/usr/lib64/libnccl.so.2",
            "/usr/lib/wsl/lib/libnccl.so.2",
            "libnccl.so.2",
        ];
        AssertInOrder(expectedOrder, paths);
        Assert.Equal("/opt/override/libnccl.so.2", paths[0]);
        Assert.Equal("libnccl.so.2", paths[^1]);
        Assert.Equal(paths.Count, paths.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void CandidatePaths_Cublas_TriesMajor13Then12InEachFolder_Cu13WheelBeforeCublasWheel()
    {
        string site = _temp.Folder("site");
        Dictionary<string, string> env = new(StringComparer.Ordinal) { ["ARTIFEX_SITE_PACKAGES"] = site };

        IReadOnlyList<string> paths = CudaLibraries.CandidatePaths(CudaLibrary.Cublas, name => env.GetValueOrDefault(name));

        AssertInOrder(
            [
                Path.Combine(site, "nvidia/cu13/lib/libcublas.so.13"),
                Path.Combine(site, "nvidia/cu13/lib/libcublas.so.12"),
                Path.Combine(site, "nvidia/cublas/lib/libcublas.so.13"),
                Path.Combine(site, "nvidia/cublas/lib/libcublas.so.12"),
                "/usr/local/cuda/lib64/libcublas.so.13",
                "/usr/local/cuda/lib64/libcublas.so.12",
            ],
            paths);
        Assert.Equal(["libcublas.so.13", "libcublas.so.12"], paths.Skip(paths.Count - 2).ToArray());
    }

    [Fact]
    public void CandidatePaths_Nvrtc_UsesCu13AndCudaNvrtcWheels()
    {
        string site = _temp.Folder("site");
        IReadOnlyList<string> paths = CudaLibraries.CandidatePaths(CudaLibrary.Nvrtc, FakeEnvironment.Of(("ARTIFEX_SITE_PACKAGES", site)));

        AssertInOrder(
            [Path.Combine(site, "nvidia/cu13/lib/libnvrtc.so.13"), Path.Combine(site, "nvidia/cuda_nvrtc/lib/libnvrtc.so.12"), "libnvrtc.so.13", "libnvrtc.so.12"],
            paths);
    }

    [Fact]
    public void CandidatePaths_Driver_HasNoWheelFolders_AndEndsWithSoname()
    {
        string site = _temp.Folder("site");
        IReadOnlyList<string> paths = CudaLibraries.CandidatePaths(
            CudaLibrary.Driver,
            name => name switch { "ARTIFEX_SITE_PACKAGES" => site, "ARTIFEX_LIBCUDA" => "/drv/libcuda.so.1", _ => null });

        Assert.Equal("/drv/libcuda.so.1", paths[0]);
        Assert.DoesNotContain(paths, p => p.Contains("/nvidia/", StringComparison.Ordinal) && p.StartsWith(site, StringComparison.Ordinal));
        Assert.Contains("/usr/local/nvidia/lib64/libcuda.so.1", paths, StringComparer.Ordinal);
        Assert.Equal("libcuda.so.1", paths[^1]);
    }

    [Fact]
    public void CandidatePaths_EmptyEnvironment_IsSystemFoldersThenSonames()
    {
        IReadOnlyList<string> paths = CudaLibraries.CandidatePaths(CudaLibrary.Nccl, _ => null);
        IReadOnlyList<string> sites = CudaLibraries.SitePackagesFolders(_ => null);

        // Only the machine's own /usr/local/lib/python3*/dist-packages can come before the system folders.
        Assert.All(sites, s => Assert.StartsWith("/usr/local/lib/python3", s, StringComparison.Ordinal));
        Assert.Equal("/usr/local/cuda/lib64/libnccl.so.2", paths[sites.Count]);
        Assert.Equal(sites.Count + 6, paths.Count);
        Assert.Equal("libnccl.so.2", paths[^1]);
    }

    [Fact]
    public void CandidatePaths_BlankOverride_IsIgnored_AndRepeatedFoldersAppearOnce()
    {
        Dictionary<string, string> env = new(StringComparer.Ordinal)
        {
            ["ARTIFEX_LIBNCCL"] = "   ",
            ["ARTIFEX_CUDA_LIB_PATH"] = "/usr/local/cuda/lib64::/extra",
        };

        IReadOnlyList<string> paths = CudaLibraries.CandidatePaths(CudaLibrary.Nccl, name => env.GetValueOrDefault(name));

        Assert.Equal("/usr/local/cuda/lib64/libnccl.so.2", paths[0]);
        Assert.Equal("/extra/libnccl.so.2", paths[1]);
        Assert.Single(paths, p => string.Equals(p, "/usr/local/cuda/lib64/libnccl.so.2", StringComparison.Ordinal));
    }

    [Fact]
    public void SitePackagesFolders_ExpandPython3Glob_ForCondaAndPathBin_OnlyWhenPresent()
    {
        string conda = _temp.Folder("conda/lib/python3.11/site-packages");
        _temp.Folder("conda/lib/python2.7/site-packages");
        _temp.Folder("bare/bin");
        Dictionary<string, string> env = new(StringComparer.Ordinal)
        {
            ["CONDA_PREFIX"] = Path.Combine(_temp.Path, "conda"),
            ["PATH"] = Path.Combine(_temp.Path, "bare", "bin"),
        };

        IReadOnlyList<string> sites = CudaLibraries.SitePackagesFolders(name => env.GetValueOrDefault(name));

        Assert.Equal(conda, sites[0]);
        Assert.DoesNotContain(sites, s => s.Contains("python2.7", StringComparison.Ordinal) || s.Contains("/bare/", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(nameof(CudaLibrary.Driver), "ARTIFEX_LIBCUDA", "libcuda.so.1")]
    [InlineData(nameof(CudaLibrary.Cublas), "ARTIFEX_LIBCUBLAS", "libcublas.so.13")]
    [InlineData(nameof(CudaLibrary.Nccl), "ARTIFEX_LIBNCCL", "libnccl.so.2")]
    [InlineData(nameof(CudaLibrary.Nvrtc), "ARTIFEX_LIBNVRTC", "libnvrtc.so.13")]
    public void OverrideVariable_AndFirstSoname_PerLibrary(string name, string variable, string soname)
    {
        CudaLibrary library = Enum.Parse<CudaLibrary>(name);
        Assert.Equal(variable, CudaLibraries.OverrideVariable(library));
        Assert.Equal(soname, CudaLibraries.Sonames(library)[0]);
    }

    /// <summary>Asserts that every expected path is present and that they appear in this order.</summary>
    private static void AssertInOrder(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        int previous = -1;
        foreach (string path in expected)
        {
            int index = actual.ToList().IndexOf(path);
            Assert.True(index >= 0, $"{path} is missing from: {string.Join(", ", actual)}");
            Assert.True(index > previous, $"{path} is at {index}, before an earlier expected path at {previous}: {string.Join(", ", actual)}");
            previous = index;
        }
    }
}
