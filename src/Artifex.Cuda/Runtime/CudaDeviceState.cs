using System.Runtime.InteropServices;
using System.Text;
using Artifex.Cuda.Native;

namespace Artifex.Cuda.Runtime;

/// <summary>
/// The native state of one GPU: its retained primary context, its one non-blocking stream (every copy, cuBLAS call,
/// kernel and NCCL call of the provider on this device goes there, so program order is stream order), and its
/// lazily created cuBLAS handle and kernel module.
/// </summary>
internal sealed unsafe class CudaDeviceState : IDisposable
{
    private readonly Lock _lazyLock = new();
    private CudaResourceHandle? _blas;
    private CudaResourceHandle? _module;
    private CudaResourceHandle? _scratch;
    private nint[]? _functions;

    private CudaDeviceState(int ordinal, PrimaryContextHandle context, CudaResourceHandle stream, DeviceFacts facts)
    {
        Ordinal = ordinal;
        Context = context;
        Stream = stream;
        Facts = facts;
    }

    public int Ordinal { get; }

    public PrimaryContextHandle Context { get; }

    public CudaResourceHandle Stream { get; }

    public nint StreamValue => Stream.Value;

    public DeviceFacts Facts { get; }

    /// <summary>Retains the device's primary context and creates its stream.</summary>
    public static CudaDeviceState Open(int ordinal)
    {
        int device;
        CudaCheck.Driver(CuDriver.cuDeviceGet(&device, ordinal), "cuDeviceGet");
        DeviceFacts facts = DeviceFacts.Read(device);
        nint context;
        CudaCheck.Driver(CuDriver.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain");
        var contextHandle = new PrimaryContextHandle(context, device);
        try
        {
            CudaCheck.Driver(CuDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
            nint stream;
            CudaCheck.Driver(CuDriver.cuStreamCreate(&stream, CuDriver.StreamNonBlocking), "cuStreamCreate");
            return new CudaDeviceState(ordinal, contextHandle, new CudaResourceHandle(CudaResourceKind.Stream, stream, contextHandle), facts);
        }
        catch
        {
            contextHandle.Dispose();
            throw;
        }
    }

    /// <summary>Makes this device's context current on the calling thread; every entry point calls it, because .NET threads do not keep one.</summary>
    public void MakeCurrent() => CudaCheck.Driver(CuDriver.cuCtxSetCurrent(Context.DangerousGetHandle()), "cuCtxSetCurrent");

    /// <summary>Waits for all work queued on the device's stream, surfacing asynchronous errors.</summary>
    public void Synchronize()
    {
        MakeCurrent();
        CudaCheck.Driver(CuDriver.cuStreamSynchronize(StreamValue), "cuStreamSynchronize");
    }

    /// <summary>Gets the device's cuBLAS handle, bound to its stream (created on first use).</summary>
    public nint Blas
    {
        get
        {
            CudaResourceHandle? blas = Volatile.Read(ref _blas);
            return blas is not null ? blas.Value : CreateBlas();
        }
    }

    /// <summary>Gets a kernel function of the provider's module on this device, loading the module on first use.</summary>
    public nint GetFunction(CudaKernel kernel, CudaKernelImage image)
    {
        nint[]? functions = Volatile.Read(ref _functions);
        return (functions ?? LoadModule(image))[(int)kernel];
    }

    /// <summary>Gets 256 bytes of device memory for the provider's own small results (a first-bad index), allocated on first use.</summary>
    public ulong Scratch
    {
        get
        {
            lock (_lazyLock)
            {
                if (_scratch is null)
                {
                    MakeCurrent();
                    ulong pointer;
                    CudaCheck.Driver(CuDriver.cuMemAlloc_v2(&pointer, 256), "cuMemAlloc_v2");
                    _scratch = new CudaResourceHandle(CudaResourceKind.Memory, (nint)pointer, Context);
                }

                return (ulong)_scratch.Value;
            }
        }
    }

    public void Dispose()
    {
        _scratch?.Dispose();
        _module?.Dispose();
        _blas?.Dispose();
        Stream.Dispose();
        Context.Dispose();
    }

    private nint CreateBlas()
    {
        lock (_lazyLock)
        {
            if (_blas is null)
            {
                MakeCurrent();
                nint handle;
                CudaCheck.Blas(Cublas.cublasCreate_v2(&handle), "cublasCreate_v2");
                var blas = new CudaResourceHandle(CudaResourceKind.Blas, handle, Context);
                CudaCheck.Blas(Cublas.cublasSetStream_v2(handle, StreamValue), "cublasSetStream_v2");
                Volatile.Write(ref _blas, blas);
            }

            return _blas.Value;
        }
    }

    private nint[] LoadModule(CudaKernelImage image)
    {
        lock (_lazyLock)
        {
            if (_functions is not null)
            {
                return _functions;
            }

            MakeCurrent();
            byte[] cubin = image.GetImage(Facts.Major, Facts.Minor);
            nint module;
            fixed (byte* data = cubin)
            {
                CudaCheck.Driver(CuDriver.cuModuleLoadData(&module, data), "cuModuleLoadData");
            }

            _module = new CudaResourceHandle(CudaResourceKind.Module, module, Context);
            var functions = new nint[CudaKernelImage.KernelNames.Length];
            for (int i = 0; i < functions.Length; i++)
            {
                byte[] name = Encoding.ASCII.GetBytes(CudaKernelImage.KernelNames[i] + "\0");
                fixed (byte* pointer = name)
                {
                    nint function;
                    CudaCheck.Driver(CuDriver.cuModuleGetFunction(&function, module, pointer), "cuModuleGetFunction");
                    functions[i] = function;
                }
            }

            Volatile.Write(ref _functions, functions);
            return functions;
        }
    }

    /// <summary>What the driver reports about a device.</summary>
    internal readonly record struct DeviceFacts(string Name, int Major, int Minor, int Multiprocessors, long TotalMemory)
    {
        public static DeviceFacts Read(int device)
        {
            byte* name = stackalloc byte[256];
            CudaCheck.Driver(CuDriver.cuDeviceGetName(name, 256, device), "cuDeviceGetName");
            int major, minor, sms;
            CudaCheck.Driver(CuDriver.cuDeviceGetAttribute(&major, CuDriver.AttributeComputeCapabilityMajor, device), "cuDeviceGetAttribute");
            CudaCheck.Driver(CuDriver.cuDeviceGetAttribute(&minor, CuDriver.AttributeComputeCapabilityMinor, device), "cuDeviceGetAttribute");
            CudaCheck.Driver(CuDriver.cuDeviceGetAttribute(&sms, CuDriver.AttributeMultiprocessorCount, device), "cuDeviceGetAttribute");
            nuint bytes;
            CudaCheck.Driver(CuDriver.cuDeviceTotalMem_v2(&bytes, device), "cuDeviceTotalMem_v2");
            return new DeviceFacts(Marshal.PtrToStringUTF8((nint)name) ?? "NVIDIA GPU", major, minor, sms, (long)bytes);
        }
    }
}
