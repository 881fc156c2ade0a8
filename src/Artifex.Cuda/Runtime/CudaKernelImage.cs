using System.Globalization;
using System.Text;
using Artifex.Cuda.Native;

namespace Artifex.Cuda.Runtime;

/// <summary>
/// The provider's kernel source compiled by NVRTC to a cubin (machine code) for each GPU architecture in use, once per
/// process and architecture.
/// </summary>
/// <remarks>
/// NVRTC rather than PTX we ship: the source stays readable CUDA C, the code is generated for the GPU actually present,
/// and no CUDA toolkit is needed to build. It costs one compile per process (a fraction of a second) and needs
/// <c>libnvrtc</c> on the GPU machine (the <c>nvidia-cuda-nvrtc</c> wheel that PyTorch installs, or a toolkit). A cubin
/// rather than PTX: PTX from an NVRTC newer than the driver fails to load (<c>CUDA_ERROR_UNSUPPORTED_PTX_VERSION</c>), while
/// a cubin is covered by CUDA's minor-version compatibility. The options turn off FMA contraction, so the elementwise and
/// optimizer kernels round exactly as the CPU provider's.
/// </remarks>
internal sealed unsafe class CudaKernelImage
{
    public const string ResourceName = "Artifex.Cuda.Kernels.artifex_kernels.cu";

    public static readonly string[] KernelNames =
    [
        "artifex_add_f32", "artifex_multiply_f32", "artifex_relu_f32", "artifex_relu_backward_f32",
        "artifex_add_bias_f32", "artifex_column_sums_f32", "artifex_softmax_xent_f32", "artifex_softmax_xent_backward_f32",
        "artifex_adam_f32", "artifex_sgd_f32", "artifex_sgd_momentum_f32",
        "artifex_repro_reset", "artifex_repro_set_bias", "artifex_repro_deposit_f32", "artifex_repro_deposit_f16",
        "artifex_repro_merge", "artifex_repro_finalize_f32", "artifex_repro_finalize_f16",
        "artifex_find_outside_window_f32", "artifex_find_outside_window_f16",
        "artifex_scale_f32", "artifex_scale_f64", "artifex_scale_f16",
        "artifex_canonical_nan_f32", "artifex_canonical_nan_f16",
        "artifex_convert_f32_f16", "artifex_convert_f16_f32",
    ];

    private readonly Dictionary<int, Lazy<byte[]>> _images = [];
    private readonly Lock _lock = new();

    /// <summary>Gets the cubin for a compute capability, compiling on first use.</summary>
    /// <param name="major">The compute capability's major number.</param>
    /// <param name="minor">Its minor number.</param>
    /// <returns>The cubin image.</returns>
    /// <exception cref="NotSupportedException">NVRTC cannot be loaded.</exception>
    /// <exception cref="CudaCompilationException">NVRTC rejected the source (with its log).</exception>
    public byte[] GetImage(int major, int minor)
    {
        Lazy<byte[]> image;
        lock (_lock)
        {
            int key = (major * 100) + minor;
            if (!_images.TryGetValue(key, out image!))
            {
                string architecture = string.Create(CultureInfo.InvariantCulture, $"sm_{major}{minor}");
                image = new Lazy<byte[]>(() => Compile(architecture), LazyThreadSafetyMode.ExecutionAndPublication);
                _images.Add(key, image);
            }
        }

        return image.Value;
    }

    /// <summary>Reads the embedded kernel source.</summary>
    public static string ReadSource()
    {
        using Stream stream = typeof(CudaKernelImage).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from Artifex.Cuda.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static byte[] Compile(string architecture)
    {
        if (!CudaLibraries.TryLoad(CudaLibrary.Nvrtc, out string? reason))
        {
            throw new NotSupportedException($"The CUDA provider's elementwise, loss and optimizer kernels are compiled by NVRTC, which is not available: {reason}");
        }

        byte[] source = Encoding.UTF8.GetBytes(ReadSource() + "\0");
        byte[] name = "artifex_kernels.cu\0"u8.ToArray();
        byte[][] options = [Encoding.ASCII.GetBytes($"--gpu-architecture={architecture}\0"), "--fmad=false\0"u8.ToArray()];
        nint program;
        fixed (byte* sourcePointer = source, namePointer = name)
        {
            CudaCheck.Nvrtc(Nvrtc.nvrtcCreateProgram(&program, sourcePointer, namePointer, 0, null, null), "nvrtcCreateProgram");
        }

        try
        {
            NvrtcResult compiled;
            fixed (byte* option0 = options[0], option1 = options[1])
            {
                byte** pointers = stackalloc byte*[] { option0, option1 };
                compiled = Nvrtc.nvrtcCompileProgram(program, options.Length, pointers);
            }

            if (compiled != NvrtcResult.Success)
            {
                throw CudaCheck.CompilationFailed(compiled, "nvrtcCompileProgram", ReadLog(program));
            }

            nuint size;
            CudaCheck.Nvrtc(Nvrtc.nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize");
            byte[] cubin = new byte[(int)size];
            fixed (byte* pointer = cubin)
            {
                CudaCheck.Nvrtc(Nvrtc.nvrtcGetCUBIN(program, pointer), "nvrtcGetCUBIN");
            }

            return cubin;
        }
        finally
        {
            _ = Nvrtc.nvrtcDestroyProgram(&program);
        }
    }

    private static string ReadLog(nint program)
    {
        nuint size;
        if (Nvrtc.nvrtcGetProgramLogSize(program, &size) != NvrtcResult.Success || size == 0)
        {
            return string.Empty;
        }

        byte[] log = new byte[(int)size];
        fixed (byte* pointer = log)
        {
            return Nvrtc.nvrtcGetProgramLog(program, pointer) == NvrtcResult.Success ? Encoding.UTF8.GetString(log).TrimEnd('\0') : string.Empty;
        }
    }
}
