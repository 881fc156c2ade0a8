using Artifex.Cuda.Native;

namespace Artifex.Cuda.Tests.Native;

public sealed class CudaCheckTests
{
    [Fact]
    public void Create_DriverOutOfMemory_IsCudaOutOfMemory_WithTheStandardMessage()
    {
        CudaException error = CudaCheck.Create("driver", "cuMemAlloc_v2", 2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory");

        Assert.IsType<CudaOutOfMemoryException>(error);
        Assert.Equal("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory", error.Message);
        Assert.Equal(("driver", "cuMemAlloc_v2", 2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"), (error.Library, error.Api, error.Code, error.NativeName, error.NativeMessage));
        Assert.IsNotAssignableFrom<OutOfMemoryException>(error);
    }

    [Theory]
    [InlineData(226, "CUDA_ERROR_CONTAINED")]
    [InlineData(700, "CUDA_ERROR_ILLEGAL_ADDRESS")]
    [InlineData(702, "CUDA_ERROR_LAUNCH_TIMEOUT")]
    [InlineData(710, "CUDA_ERROR_ASSERT")]
    [InlineData(714, "CUDA_ERROR_HARDWARE_STACK_ERROR")]
    [InlineData(715, "CUDA_ERROR_ILLEGAL_INSTRUCTION")]
    [InlineData(716, "CUDA_ERROR_MISALIGNED_ADDRESS")]
    [InlineData(717, "CUDA_ERROR_INVALID_ADDRESS_SPACE")]
    [InlineData(718, "CUDA_ERROR_INVALID_PC")]
    [InlineData(719, "CUDA_ERROR_LAUNCH_FAILED")]
    [InlineData(721, "CUDA_ERROR_TENSOR_MEMORY_LEAK")]
    [InlineData(810, "CUDA_ERROR_MPS_CLIENT_TERMINATED")]
    [InlineData(911, "CUDA_ERROR_EXTERNAL_DEVICE")]
    public void Create_StickyDriverCodes_AreDeviceFaulted_AndSayTheProcessMustRestart(int code, string name)
    {
        CudaException error = CudaCheck.Create("driver", "cuStreamSynchronize", code, name, "a fault");

        Assert.IsType<CudaDeviceFaultedException>(error);
        Assert.StartsWith($"cuStreamSynchronize failed: {name} ({code}): a fault", error.Message, StringComparison.Ordinal);
        Assert.Contains("the process must be restarted", error.Message, StringComparison.Ordinal);
        Assert.Equal(code, error.Code);
        Assert.Equal(name, error.NativeName);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(201)]
    [InlineData(701)]
    [InlineData(709)]
    [InlineData(720)]
    [InlineData(999)]
    public void Create_OtherDriverCodes_ArePlainCudaException(int code)
    {
        CudaException error = CudaCheck.Create("driver", "cuLaunchKernel", code, "CUDA_ERROR_X", "x");

        Assert.IsType<CudaException>(error, exactMatch: true);
        Assert.False(CudaCheck.IsSticky(code));
    }

    [Fact]
    public void Create_CublasAllocFailed_IsOutOfMemory_OtherStatusesArePlain()
    {
        CudaException alloc = CudaCheck.Create("cublas", "cublasCreate_v2", 3, "CUBLAS_STATUS_ALLOC_FAILED", "the resource allocation failed");
        CudaException failed = CudaCheck.Create("cublas", "cublasSgemm_v2", 13, "CUBLAS_STATUS_EXECUTION_FAILED", "the GPU program failed to execute");

        Assert.IsType<CudaOutOfMemoryException>(alloc);
        Assert.Equal("cublas", alloc.Library);
        Assert.Equal("cublasCreate_v2 failed: CUBLAS_STATUS_ALLOC_FAILED (3): the resource allocation failed", alloc.Message);
        Assert.IsType<CudaException>(failed, exactMatch: true);
        Assert.Equal(13, failed.Code);
    }

    [Theory]
    [InlineData(6, "ncclRemoteError", true)]
    [InlineData(2, "ncclSystemError", true)]
    [InlineData(3, "ncclInternalError", false)]
    [InlineData(5, "ncclInvalidUsage", false)]
    public void Create_Nccl_IsNcclException_RemoteForSystemAndRemoteErrors(int code, string name, bool remote)
    {
        var error = Assert.IsType<NcclException>(CudaCheck.Create("nccl", "ncclAllReduce", code, name, "what happened", "NET/Socket : peer closed"));

        Assert.Equal(remote, error.IsRemote);
        Assert.Equal("NET/Socket : peer closed", error.LastError);
        Assert.Equal($"ncclAllReduce failed: {name} ({code}): what happened (last error: NET/Socket : peer closed)", error.Message);
        Assert.Equal("nccl", error.Library);
    }

    [Fact]
    public void Create_Nccl_WithoutLastError_HasNoLastErrorPart()
    {
        var error = Assert.IsType<NcclException>(CudaCheck.Create("nccl", "ncclCommInitAll", 4, "ncclInvalidArgument", "invalid argument"));

        Assert.Null(error.LastError);
        Assert.Equal("ncclCommInitAll failed: ncclInvalidArgument (4): invalid argument", error.Message);
    }

    [Fact]
    public void Create_NvrtcCompilation_CarriesTheLog_OtherNvrtcCodesArePlain()
    {
        const string Log = "artifex_kernels.cu(12): error: identifier \"x\" is undefined\n";
        var error = Assert.IsType<CudaCompilationException>(CudaCheck.Create("nvrtc", "nvrtcCompileProgram", 6, "NVRTC_ERROR_COMPILATION", "NVRTC_ERROR_COMPILATION", log: Log));
        CudaException invalid = CudaCheck.Create("nvrtc", "nvrtcCreateProgram", 3, "NVRTC_ERROR_INVALID_INPUT", string.Empty);

        Assert.Equal(Log, error.Log);
        Assert.Equal("nvrtcCompileProgram failed: NVRTC_ERROR_COMPILATION (6)" + Environment.NewLine + Log.Trim(), error.Message);
        Assert.IsType<CudaException>(invalid, exactMatch: true);
        Assert.Equal("nvrtcCreateProgram failed: NVRTC_ERROR_INVALID_INPUT (3)", invalid.Message);
    }

    [Fact]
    public void CompilationFailed_CarriesTheLog_AndALongLogIsTruncatedInTheMessageOnly()
    {
        string log = new('e', 10_000);

        CudaCompilationException error = CudaCheck.CompilationFailed(NvrtcResult.Compilation, "nvrtcCompileProgram", log);

        Assert.Equal(log, error.Log);
        Assert.Equal("NVRTC_ERROR_COMPILATION", error.NativeName);
        Assert.Equal(6, error.Code);
        Assert.Contains("log truncated", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Length < 5000);
    }

    [Fact]
    public void Checks_OnSuccess_ReturnWithoutAllocating()
    {
        RunSuccessfulChecks();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            RunSuccessfulChecks();
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void Checks_OnFailure_ThrowTheMappedType_EvenWhenTheLibraryCannotNameTheCode()
    {
        // Without the libraries (this machine), the names come from the enums; with them, the libraries give the same names.
        CudaOutOfMemoryException oom = Assert.Throws<CudaOutOfMemoryException>(() => CudaCheck.Driver(CuResult.OutOfMemory, "cuMemAlloc_v2"));
        CudaOutOfMemoryException blas = Assert.Throws<CudaOutOfMemoryException>(() => CudaCheck.Blas(CublasStatus.AllocFailed, "cublasCreate_v2"));
        NcclException nccl = Assert.Throws<NcclException>(() => CudaCheck.Nccl(NcclResult.RemoteError, "ncclAllReduce"));
        CudaCompilationException nvrtc = Assert.Throws<CudaCompilationException>(() => CudaCheck.Nvrtc(NvrtcResult.Compilation, "nvrtcCompileProgram"));
        CudaDeviceFaultedException faulted = Assert.Throws<CudaDeviceFaultedException>(() => CudaCheck.Driver(CuResult.IllegalAddress, "cuStreamSynchronize"));

        Assert.Equal(("CUDA_ERROR_OUT_OF_MEMORY", 2, "cuMemAlloc_v2"), (oom.NativeName, oom.Code, oom.Api));
        Assert.StartsWith("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2)", oom.Message, StringComparison.Ordinal);
        Assert.Equal(("CUBLAS_STATUS_ALLOC_FAILED", "cublas"), (blas.NativeName, blas.Library));
        Assert.Equal("ncclRemoteError", nccl.NativeName);
        Assert.True(nccl.IsRemote);
        Assert.Equal("NVRTC_ERROR_COMPILATION", nvrtc.NativeName);
        Assert.Equal("CUDA_ERROR_ILLEGAL_ADDRESS", faulted.NativeName);
    }

    [Fact]
    public void FallbackName_FollowsEachLibrarysStyle()
    {
        Assert.Equal("CUDA_SUCCESS", CudaCheck.FallbackName(CuResult.Success, "CUDA_SUCCESS", "CUDA_ERROR_", "CUresult"));
        Assert.Equal("CUDA_ERROR_STUB_LIBRARY", CudaCheck.FallbackName(CuResult.StubLibrary, "CUDA_SUCCESS", "CUDA_ERROR_", "CUresult"));
        Assert.Equal("CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", CudaCheck.FallbackName(CuResult.LaunchOutOfResources, "CUDA_SUCCESS", "CUDA_ERROR_", "CUresult"));
        Assert.Equal("CUresult 714", CudaCheck.FallbackName((CuResult)714, "CUDA_SUCCESS", "CUDA_ERROR_", "CUresult"));
        Assert.Equal("CUBLAS_STATUS_ARCH_MISMATCH", CudaCheck.FallbackName(CublasStatus.ArchMismatch, "CUBLAS_STATUS_SUCCESS", "CUBLAS_STATUS_", "cublasStatus_t"));
        Assert.Equal("NVRTC_ERROR_PROGRAM_CREATION_FAILURE", CudaCheck.FallbackName(NvrtcResult.ProgramCreationFailure, "NVRTC_SUCCESS", "NVRTC_ERROR_", "nvrtcResult"));
    }

    [Fact]
    public void StandardConstructors_LeaveTheNativeFieldsEmpty()
    {
        var inner = new InvalidOperationException("inner");
        CudaException[] errors =
        [
            new CudaException(), new CudaException("m"), new CudaException("m", inner),
            new CudaOutOfMemoryException("m"), new CudaDeviceFaultedException("m", inner), new NcclException("m"), new CudaCompilationException("m"),
        ];

        Assert.All(errors, e => Assert.Equal((string.Empty, string.Empty, 0, string.Empty, string.Empty), (e.Library, e.Api, e.Code, e.NativeName, e.NativeMessage)));
        Assert.Same(inner, errors[2].InnerException);
        Assert.Null(((NcclException)errors[5]).LastError);
        Assert.Equal(string.Empty, ((CudaCompilationException)errors[6]).Log);
    }

    private static void RunSuccessfulChecks()
    {
        CudaCheck.Driver(CuResult.Success, "cuMemAlloc_v2");
        CudaCheck.Blas(CublasStatus.Success, "cublasSgemm_v2");
        CudaCheck.Nccl(NcclResult.Success, "ncclAllReduce", 42);
        CudaCheck.Nvrtc(NvrtcResult.Success, "nvrtcCompileProgram");
    }
}
