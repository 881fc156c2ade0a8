using System.Diagnostics;
using System.Globalization;
using System.Text;
using Artifex.Cuda.Runtime;

namespace Artifex.Cuda.Tests.Kernels;

/// <summary>
/// Checks the embedded kernel source without a GPU: its shape (no includes, exactly the kernels and parameter lists the
/// launcher passes, no fused or fast-math operations), and that it compiles to PTX with clang-14 (CUDA device-only, no
/// CUDA installation) with every kernel an entry point. NVRTC itself compiles it on the GPU machine.
/// </summary>
public sealed class KernelSourceTests
{
    private const string ResourceName = "Artifex.Cuda.Kernels.artifex_kernels.cu";

    private const string Clang = "clang-14";

    private const string PreludeName = "clang_prelude.h";

    // A hang guard only: a compile of this size takes seconds, and a loaded machine must not fail it.
    private static readonly TimeSpan s_compileTimeout = TimeSpan.FromMinutes(15);

    /// <summary>The kernels and their parameter lists, exactly as the launcher passes the arguments.</summary>
    private static readonly (string Name, string Parameters)[] s_kernels =
    [
        ("artifex_add_f32", "const float* x, const float* y, float* result, long long n"),
        ("artifex_multiply_f32", "const float* x, const float* y, float* result, long long n"),
        ("artifex_relu_f32", "const float* x, float* result, long long n"),
        ("artifex_relu_backward_f32", "const float* gradOutput, const float* output, float* gradInput, long long n"),
        ("artifex_add_bias_f32", "float* matrix, const float* bias, int rows, int columns"),
        ("artifex_column_sums_f32", "const float* matrix, int rows, int columns, float* sums"),
        ("artifex_softmax_xent_f32", "const float* logits, const int* labels, int rows, int classes, float* probabilities, float* losses"),
        ("artifex_softmax_xent_backward_f32", "const float* probabilities, const int* labels, int rows, int classes, float scale, float* gradLogits"),
        ("artifex_adam_f32", "float* p, const float* g, float* m, float* v, long long n, float beta1, float beta2, float oneMinusBeta1, float oneMinusBeta2, float stepSize, float inverseCorrection, float epsilon"),
        ("artifex_sgd_f32", "float* p, const float* g, long long n, float learningRate"),
        ("artifex_sgd_momentum_f32", "float* p, const float* g, float* velocity, long long n, float learningRate, float momentum"),
        ("artifex_repro_reset", "double* state, long long count"),
        ("artifex_repro_set_bias", "double* state, long long count, int biased"),
        ("artifex_repro_deposit_f32", "double* state, const float* values, long long count"),
        ("artifex_repro_deposit_f16", "double* state, const unsigned short* values, long long count"),
        ("artifex_repro_merge", "double* state, const double* other, long long count"),
        ("artifex_repro_finalize_f32", "const double* state, float* output, long long count, double scale"),
        ("artifex_repro_finalize_f16", "const double* state, unsigned short* output, long long count, double scale"),
        ("artifex_find_outside_window_f32", "const float* values, long long count, unsigned long long* firstBad"),
        ("artifex_find_outside_window_f16", "const unsigned short* values, long long count, unsigned long long* firstBad"),
        ("artifex_scale_f32", "float* x, long long n, float factor, int divide"),
        ("artifex_scale_f64", "double* x, long long n, double factor, int divide"),
        ("artifex_scale_f16", "unsigned short* x, long long n, float factor, int divide"),
        ("artifex_canonical_nan_f32", "float* x, long long n"),
        ("artifex_canonical_nan_f16", "unsigned short* x, long long n"),
        ("artifex_convert_f32_f16", "const float* source, unsigned short* destination, long long n, float divisor"),
        ("artifex_convert_f16_f32", "const unsigned short* source, float* destination, long long n"),
    ];

    /// <summary>Calls that would round differently from the CPU provider: fused multiply-adds and fast-math intrinsics.</summary>
    private static readonly string[] s_forbiddenCalls =
    [
        "fmaf(", "fma(", "__fmaf_", "__fma_", "__expf(", "__logf(", "__log2f(", "__exp10f(", "__powf(", "__fdividef(",
        "__fdiv_rz(", "__fsqrt_rz(", "__frsqrt_rn(", "rsqrtf(", "__saturatef(", "__sinf(", "__cosf(", "__tanf(",
    ];

    [Fact]
    public void Source_IsEmbeddedAsciiAndIncludesNothing()
    {
        string source = ReadSource();
        Assert.All(source, static c => Assert.True(c is '\n' or '\r' or (>= ' ' and <= '~'), $"non-ASCII or control character U+{(int)c:X4}"));
        string[] includes = [.. SourceLines(source).Where(static l => IsDirective(l, "include"))];
        Assert.Empty(includes);
    }

    [Fact]
    public void Source_DeclaresExactlyTheLaunchersKernelsWithTheirParameters()
    {
        Dictionary<string, string> declared = DeclaredKernels(ReadSource());
        Assert.Equal(s_kernels.Select(static k => k.Name).Order(StringComparer.Ordinal), declared.Keys.Order(StringComparer.Ordinal));
        Assert.All(s_kernels, k => Assert.Equal(k.Parameters, declared[k.Name]));
    }

    [Fact]
    public void KernelList_MatchesTheLauncherImage()
    {
        Assert.Equal(ResourceName, CudaKernelImage.ResourceName);
        Assert.Equal(s_kernels.Select(static k => k.Name).Order(StringComparer.Ordinal), CudaKernelImage.KernelNames.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Source_UsesNoFusedOrFastMathCalls()
    {
        string code = StripComments(ReadSource());
        Assert.All(s_forbiddenCalls, call => Assert.DoesNotContain(call, code, StringComparison.Ordinal));
    }

    [Fact]
    public void Source_EveryGlobalFunctionIsExternC()
    {
        string[] lines = [.. SourceLines(StripComments(ReadSource()))];
        string[] global = [.. lines.Where(static l => l.Contains("__global__", StringComparison.Ordinal))];
        Assert.Equal(s_kernels.Length, global.Length);
        Assert.All(global, static l => Assert.StartsWith("extern \"C\" __global__ void artifex_", l.Trim(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Source_CompilesToPtxWithClang_EveryKernelAnEntryPoint()
    {
        string ptx = await CompileAsync();
        Assert.All(s_kernels, k => Assert.Contains(".entry " + k.Name + "(", ptx, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Source_WithoutContraction_HasNoFusedMultiplyAdd()
    {
        // As NVRTC's --fmad=false: with contraction off, any fma in the PTX would come from the source itself, and would
        // round differently from the CPU provider's separate multiply and add.
        string ptx = await CompileAsync();
        string[] fused = [.. SourceLines(ptx).Where(static l => l.TrimStart().StartsWith("fma.", StringComparison.Ordinal))];
        Assert.Empty(fused);
    }

    private static async Task<string> CompileAsync()
    {
        string clang = FindOnPath(Clang) ?? SkipReturning($"{Clang} is not on PATH: the clang compile check of the kernel source needs it.");
        string prelude = FindPrelude() ?? SkipReturning($"{PreludeName} was found neither in the output directory nor in the source tree.");
        DirectoryInfo directory = Directory.CreateTempSubdirectory("artifex-kernels-");
        try
        {
            string source = Path.Combine(directory.FullName, "artifex_kernels.cu");
            string ptx = Path.Combine(directory.FullName, "artifex_kernels.ptx");
            await File.WriteAllTextAsync(source, ReadSource(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), TestContext.Current.CancellationToken).ConfigureAwait(false);
            string[] arguments =
            [
                "-x", "cuda", "--cuda-device-only", "-nocudainc", "-nocudalib", "--cuda-gpu-arch=sm_80", "-O2", "-std=c++17",
                "-ffp-contract=off", "-Wall", "-Wextra", "-Werror",
                "-include", "__clang_cuda_builtin_vars.h", "-include", prelude, "-S", "-o", ptx, source,
            ];
            (int exitCode, string output) = await RunAsync(clang, arguments).ConfigureAwait(false);
            Assert.True(exitCode == 0, $"{Clang} exited with {exitCode.ToString(CultureInfo.InvariantCulture)}:\n{output}");
            return await File.ReadAllTextAsync(ptx, TestContext.Current.CancellationToken).ConfigureAwait(false);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string fileName, string[] arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(s_compileTimeout);
        Task<string> standardOutput = process.StandardOutput.ReadToEndAsync(timeout.Token);
        Task<string> standardError = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException exception)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} ran longer than {s_compileTimeout}.", exception);
        }

        return (process.ExitCode, (await standardOutput.ConfigureAwait(false)) + (await standardError.ConfigureAwait(false)));
    }

    private static string ReadSource()
    {
        using Stream stream = typeof(CudaServiceCollectionExtensions).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from Artifex.Cuda.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Maps each <c>extern "C" __global__ void name(parameters)</c> to its parameters, whitespace normalized.</summary>
    private static Dictionary<string, string> DeclaredKernels(string source)
    {
        const string Marker = "extern \"C\" __global__ void ";
        string code = StripComments(source);
        var kernels = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int at = code.IndexOf(Marker, StringComparison.Ordinal); at >= 0; at = code.IndexOf(Marker, at + 1, StringComparison.Ordinal))
        {
            int open = code.IndexOf('(', at);
            int close = code.IndexOf(')', open);
            string name = code[(at + Marker.Length)..open].Trim();
            Assert.True(kernels.TryAdd(name, NormalizeSpace(code[(open + 1)..close])), $"{name} is declared twice.");
        }

        return kernels;
    }

    private static string NormalizeSpace(string text) =>
        string.Join(' ', text.Split([' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries));

    /// <summary>Removes <c>//</c> and <c>/* */</c> comments (the source has no comment markers inside string literals).</summary>
    private static string StripComments(string source)
    {
        var code = new StringBuilder(source.Length);
        for (int i = 0; i < source.Length; i++)
        {
            if (source[i] == '/' && i + 1 < source.Length && source[i + 1] == '/')
            {
                int end = source.IndexOf('\n', i);
                i = end < 0 ? source.Length : end - 1;
            }
            else if (source[i] == '/' && i + 1 < source.Length && source[i + 1] == '*')
            {
                int end = source.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? source.Length : end + 1;
                code.Append(' ');
            }
            else
            {
                code.Append(source[i]);
            }
        }

        return code.ToString();
    }

    private static string[] SourceLines(string text) => text.Split('\n');

    private static bool IsDirective(string line, string directive)
    {
        string trimmed = line.TrimStart();
        return trimmed.StartsWith('#') && trimmed[1..].TrimStart().StartsWith(directive, StringComparison.Ordinal);
    }

    private static string? FindOnPath(string program)
    {
        string[] directories = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return directories.Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);
    }

    /// <summary>The prelude next to the test assembly when copied there, otherwise in the source tree above it.</summary>
    private static string? FindPrelude()
    {
        string copied = Path.Combine(AppContext.BaseDirectory, "Kernels", PreludeName);
        if (File.Exists(copied))
        {
            return copied;
        }

        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "tests", "Artifex.Cuda.Tests", "Kernels", PreludeName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string SkipReturning(string reason)
    {
        Assert.Skip(reason);
        return reason;
    }
}
