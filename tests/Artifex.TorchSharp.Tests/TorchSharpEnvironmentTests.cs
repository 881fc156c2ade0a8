using Artifex.Testing;
using TorchSharp;

namespace Artifex.TorchSharp.Tests;

public sealed class TorchSharpEnvironmentTests
{
    [Fact]
    public void Libtorch_loads()
    {
        LibTorch.Require();

        Assert.True(TorchSharpEnvironment.IsAvailable);
        Assert.Null(TorchSharpEnvironment.UnavailableReason);
        TorchSharpEnvironment.EnsureAvailable();
    }

    [Fact]
    public void A_small_tensor_computation_gives_the_right_numbers()
    {
        LibTorch.Require();
        using var scope = torch.NewDisposeScope();

        torch.Tensor a = torch.tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
        torch.Tensor b = torch.tensor(new float[] { 7, 8, 9, 10, 11, 12 }, [3, 2]);
        torch.Tensor product = a.matmul(b);

        Assert.Equal([2L, 2L], product.shape);
        Assert.Equal([58f, 64f, 139f, 154f], product.data<float>().ToArray());
        Assert.Equal(415f, product.sum().item<float>());
    }

    [Fact]
    public void The_loader_reason_keeps_the_errors_of_files_that_exist_and_drops_the_paths_where_none_does()
    {
        // The message of the DllNotFoundException for LibTorchSharp on Debian 12 before the build step (shortened).
        const string Message =
            "Unable to load shared library 'LibTorchSharp' or one of its dependencies. In order to help diagnose loading problems, consider using a tool like strace. If you're using glibc, consider setting the LD_DEBUG environment variable: \n" +
            "/app/runtimes/linux-x64/native/LibTorchSharp.so: cannot open shared object file: No such file or directory\n" +
            "/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/LibTorchSharp.so: cannot open shared object file: No such file or directory\n" +
            "/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.32' not found (required by /app/runtimes/linux-x64/native/libLibTorchSharp.so)\n" +
            "/app/libLibTorchSharp.so: cannot open shared object file: No such file or directory\n" +
            "/app/runtimes/linux-x64/native/libLibTorchSharp: cannot open shared object file: No such file or directory\n";

        Assert.Equal(
            "/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.32' not found (required by /app/runtimes/linux-x64/native/libLibTorchSharp.so)",
            TorchSharpEnvironment.LoaderReason(Message));
    }

    [Fact]
    public void The_loader_reason_keeps_a_missing_dependency()
    {
        const string Message =
            "Unable to load shared library 'LibTorchSharp' or one of its dependencies.\n" +
            "libtorch.so: cannot open shared object file: No such file or directory\n" +
            "/app/libLibTorchSharp.so: cannot open shared object file: No such file or directory\n";

        Assert.Equal("libtorch.so: cannot open shared object file: No such file or directory", TorchSharpEnvironment.LoaderReason(Message));
    }

    [Fact]
    public void The_loader_reason_is_null_when_no_file_was_found()
    {
        const string Message =
            "Unable to load shared library 'LibTorchSharp' or one of its dependencies.\n" +
            "/app/LibTorchSharp.so: cannot open shared object file: No such file or directory\n" +
            "/app/libLibTorchSharp.so: cannot open shared object file: No such file or directory\n";

        Assert.Null(TorchSharpEnvironment.LoaderReason(Message));
        Assert.Null(TorchSharpEnvironment.LoaderReason("Unable to load DLL 'LibTorchSharp' or one of its dependencies: The specified module could not be found. (0x8007007E)"));
    }
}
