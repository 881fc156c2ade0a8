using Artifex.Distributed;
using Artifex.Testing;

namespace Artifex.Cuda.Tests;

/// <summary>The README's CUDA snippet: compiled and run here (on a GPU, or to the refusal it promises without one), and compared with README.md.</summary>
public sealed class ReadmeCudaExampleTests
{
    [Fact]
    public void CudaSnippet_RunsOnAGpu_OrRefusesWithTheReason()
    {
        try
        {
            // example:cuda:begin
            using var provider = new CudaProvider();                       // every visible GPU; PlatformNotSupportedException says why not
            Mesh mesh = new DeviceMeshManager(provider).CreateDataParallelMesh();
            // the rest is the same code as on the CPU provider: DataParallel, RunSpmd, provider.Kernels, ...
            // example:cuda:end
            Assert.Equal(provider.Devices.Count, mesh.Size);
        }
        catch (PlatformNotSupportedException refused) when (!CudaProbe.Current.IsAvailable && !GpuEnvironment.Required)
        {
            Assert.Contains(CudaProbe.Current.Reason!, refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void CudaSnippet_IsInReadme()
    {
        // The self-contained GPU bundle runs without the repository beside it.
        Assert.SkipUnless(ReadmeText.RepositoryFound, "README.md is not beside these tests (the published GPU bundle); the comparison runs in the repository.");
        ReadmeText.AssertExample("cuda", ["tests", "Artifex.Cuda.Tests", "ReadmeCudaExampleTests.cs"]);
    }
}
