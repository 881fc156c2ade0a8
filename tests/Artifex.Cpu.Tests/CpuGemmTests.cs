using System.Numerics;
using System.Runtime.Intrinsics;
using Artifex.Cpu.Kernels;

namespace Artifex.Cpu.Tests;

/// <summary>
/// The CPU kernels beyond the provider-neutral contract: every micro-kernel this machine accelerates against a
/// double-precision reference on tile and cache-block edges; GEMM bits that do not depend on the thread count or the
/// run; and elementwise and optimizer kernels whose bits do not depend on whether an element falls in the SIMD body or
/// the scalar tail.
/// </summary>
public sealed class CpuGemmTests
{
    /// <summary>2⁻²³, twice the unit roundoff of <see cref="float"/>.</summary>
    private const double Eps = 1.1920928955078125e-7;

    private static readonly MatrixOperation[] s_operations = [MatrixOperation.None, MatrixOperation.Transpose];

    public static TheoryData<string> KindNames => [nameof(GemmKernelKind.Scalar), nameof(GemmKernelKind.Vector256), nameof(GemmKernelKind.Vector512)];

    /// <summary>Kernels and shapes of at least 2²⁰ multiply-adds (so the GEMM goes parallel), with edges on every side.</summary>
    public static TheoryData<string, int, int, int> ParallelShapes
    {
        get
        {
            var data = new TheoryData<string, int, int, int>();
            foreach (string kind in KindNames)
            {
                data.Add(kind, 13, 2100, 70);   // wide: columns split, more than one NC block
                data.Add(kind, 37, 517, 300);   // wide: columns split, two KC blocks
                data.Add(kind, 1031, 7, 259);   // tall: rows split, N below one tile
                data.Add(kind, 257, 9, 513);    // tall: rows split, three KC blocks
            }

            return data;
        }
    }

    [Fact]
    public void GemmKernel_DefaultsToTheWidestAcceleratedKernel()
    {
        using var provider = new CpuProvider(1);
        GemmKernelKind expected = Vector512.IsHardwareAccelerated ? GemmKernelKind.Vector512
            : Vector256.IsHardwareAccelerated ? GemmKernelKind.Vector256
            : GemmKernelKind.Scalar;
        Assert.Equal(expected, CpuGemm.BestKernel);
        Assert.Equal(expected, ((CpuKernels)provider.Kernels).GemmKernel);
        Assert.Equal(1, provider.KernelThreads);
        Assert.Throws<ArgumentOutOfRangeException>(() => provider.KernelThreads = 0);
        using var configured = new CpuProvider(new CpuProviderOptions { DeviceCount = 2, KernelThreads = 3 });
        Assert.Equal(3, configured.KernelThreads);
    }

    [Theory]
    [MemberData(nameof(KindNames))]
    public void Gemm_TileEdgeShapes_AllTransposes_MatchReference(string kindName)
    {
        GemmKernelKind kind = RequireAccelerated(kindName);
        GemmBlocking blocking = GemmBlocking.For(kind);
        int kc = GemmBlocking.DepthBlock;
        Assert.Equal(kc, blocking.KC);
        int[] ms = Positive(1, blocking.MR - 1, blocking.MR, blocking.MR + 1, (2 * blocking.MR) + 1);
        int[] ns = Positive(1, blocking.NR - 1, blocking.NR, blocking.NR + 1, (2 * blocking.NR) + 3);
        int[] ks = Positive(1, kc - 1, kc, kc + 1, (2 * kc) + 1);
        using var provider = new CpuProvider(1);
        int seed = 0;
        foreach (int m in ms)
        {
            foreach (int n in ns)
            {
                foreach (int k in ks)
                {
                    foreach (MatrixOperation transA in s_operations)
                    {
                        foreach (MatrixOperation transB in s_operations)
                        {
                            var problem = new GemmProblem(transA, transB, m, n, k, 1.25f, seed % 3 == 0 ? 0f : -0.5f, seed % 2, ++seed);
                            problem.AssertMatchesReference(Run(provider, kind, 1, problem), kindName);
                        }
                    }
                }
            }
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Theory]
    [MemberData(nameof(KindNames))]
    public void Gemm_CacheBlockEdges_MatchReference(string kindName)
    {
        GemmKernelKind kind = RequireAccelerated(kindName);
        GemmBlocking blocking = GemmBlocking.For(kind);
        int kc = GemmBlocking.DepthBlock;
        (int M, int N, int K)[] shapes =
        [
            (blocking.MC - 1, blocking.NR + 1, kc + 1),
            (blocking.MC, blocking.NR - 1, 3),
            (blocking.MC + 1, blocking.NR + 1, kc - 1),
            ((2 * blocking.MC) + blocking.MR + 1, 3, 5),
            (blocking.MR + 1, blocking.NC - 1, 3),
            (blocking.MR - 1, blocking.NC + 1, 7),
            (3, (2 * blocking.NC) + blocking.NR + 1, 2),
        ];
        using var provider = new CpuProvider(1);
        int seed = 1000;
        foreach ((int m, int n, int k) in shapes)
        {
            foreach (MatrixOperation transA in s_operations)
            {
                foreach (MatrixOperation transB in s_operations)
                {
                    var problem = new GemmProblem(transA, transB, m, n, k, -0.75f, 0.5f, seed % 2, ++seed);
                    problem.AssertMatchesReference(Run(provider, kind, 1, problem), kindName);
                }
            }
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Theory]
    [MemberData(nameof(ParallelShapes))]
    public void Gemm_ThreadCounts_BitwiseIdenticalAndRepeatable(string kindName, int m, int n, int k)
    {
        GemmKernelKind kind = RequireAccelerated(kindName);
        Assert.True((long)m * n * k >= 1L << 20, "The shape is too small for the GEMM to go parallel.");
        using var provider = new CpuProvider(1);
        int seed = m + n + k;
        foreach (MatrixOperation transA in s_operations)
        {
            foreach (MatrixOperation transB in s_operations)
            {
                // Blend (beta ≠ 0) and overwrite over NaN (beta = 0), each followed by accumulating k blocks where k > KC.
                foreach ((float alpha, float beta) in new[] { (0.75f, -1.25f), (1f, 0f) })
                {
                    var problem = new GemmProblem(transA, transB, m, n, k, alpha, beta, pad: 1, ++seed, nanC: beta == 0);
                    string what = $"{kindName} {transA}/{transB} {m}×{n}×{k} alpha={alpha} beta={beta}";
                    float[] single = Run(provider, kind, 1, problem);
                    problem.AssertMatchesReference(single, what);
                    AssertBits(single, Run(provider, kind, 1, problem), $"{what}: a second run on 1 thread");
                    foreach (int threads in new[] { 2, 3, 4, 7 })
                    {
                        AssertBits(single, Run(provider, kind, threads, problem), $"{what}: {threads} threads against 1");
                    }

                    AssertBits(single, Run(provider, kind, 7, problem), $"{what}: a second run on 7 threads");
                }
            }
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void Gemm_ConcurrentParallelGemmsInAnSpmdRegion_SameBitsAsOneThread()
    {
        // Four device workers each run parallel GEMMs at once (each with its own thread-static packing buffers) and must
        // get the bits of a lone single-threaded run.
        const int devices = 4;
        using var provider = new CpuProvider(devices);
        GemmProblem[] problems =
        [
            new(MatrixOperation.None, MatrixOperation.None, 1031, 7, 259, 1f, 0.5f, pad: 1, 301),
            new(MatrixOperation.Transpose, MatrixOperation.None, 13, 2100, 70, -1f, 0f, pad: 0, 302),
            new(MatrixOperation.None, MatrixOperation.Transpose, 37, 517, 300, 0.5f, 1f, pad: 1, 303),
            new(MatrixOperation.Transpose, MatrixOperation.Transpose, 257, 9, 513, 2f, -1f, pad: 0, 304),
        ];
        float[][] expected = [.. problems.Select(p => Run(provider, CpuGemm.BestKernel, 1, p))];
        var kernels = (CpuKernels)provider.Kernels;
        provider.KernelThreads = 3;
        try
        {
            var results = new float[devices][][];
            var mesh = new Mesh(provider.Devices, ("data", devices));
            provider.RunSpmd(mesh, context =>
            {
                int d = context.DeviceIndex;
                results[d] = new float[problems.Length * 2][];
                for (int round = 0; round < 2; round++)
                {
                    for (int i = 0; i < problems.Length; i++)
                    {
                        // Each device starts at a different problem, so different shapes overlap in time.
                        int index = (i + d) % problems.Length;
                        results[d][(round * problems.Length) + index] = RunOn(provider, kernels, context.Device, problems[index]);
                    }
                }
            });

            for (int d = 0; d < devices; d++)
            {
                for (int i = 0; i < results[d].Length; i++)
                {
                    AssertBits(expected[i % problems.Length], results[d][i], $"device {d}, problem {i % problems.Length}, round {i / problems.Length}");
                }
            }
        }
        finally
        {
            provider.KernelThreads = 1;
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    [Fact]
    public void Gemm_AcceleratedKernels_AgreeWithScalarWithinRounding()
    {
        // Not bitwise (FMA against multiply-then-add), but every kernel lands within the same bound of the reference.
        using var provider = new CpuProvider(1);
        var problem = new GemmProblem(MatrixOperation.Transpose, MatrixOperation.None, 67, 45, 600, 1f, 1f, pad: 0, 77);
        foreach (string name in KindNames)
        {
            var kind = Enum.Parse<GemmKernelKind>(name);
            if (IsAccelerated(kind))
            {
                problem.AssertMatchesReference(Run(provider, kind, 2, problem), name);
            }
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    // ---------------------------------------------------------------- Elementwise and optimizer kernels: SIMD body against scalar tail

    [Fact]
    public void Add_BitsDoNotDependOnPosition() => AssertPositionIndependent(
        "add",
        Tuples(41, 3, specials: true),
        [2],
        static (k, b) => k.Add(b[0], b[1], b[2]));

    [Fact]
    public void Multiply_BitsDoNotDependOnPosition() => AssertPositionIndependent(
        "multiply",
        Tuples(42, 3, specials: true),
        [2],
        static (k, b) => k.Multiply(b[0], b[1], b[2]));

    [Fact]
    public void Relu_BitsDoNotDependOnPosition() => AssertPositionIndependent(
        "relu",
        Tuples(43, 2, specials: true),
        [1],
        static (k, b) => k.Relu(b[0], b[1]));

    [Fact]
    public void ReluBackward_BitsDoNotDependOnPosition() => AssertPositionIndependent(
        "relu backward",
        Tuples(44, 3, specials: true),
        [2],
        static (k, b) => k.ReluBackward(b[0], b[1], b[2]));

    [Fact]
    public void Axpy_BitsDoNotDependOnPosition() => AssertPositionIndependent(
        "axpy",
        Tuples(45, 2, specials: false),
        [1],
        static (k, b) => k.Axpy(0.3f, b[0], b[1]));

    [Fact]
    public void Scale_BitsDoNotDependOnPosition() => AssertPositionIndependent(
        "scale",
        Tuples(46, 1, specials: false),
        [0],
        static (k, b) => k.Scale(-1.7f, b[0]));

    [Theory]
    [InlineData(1e-3f, 0.9f, 0.999f, 1e-8f, 1)]
    [InlineData(1e-3f, 0.9f, 0.999f, 1e-8f, 7)]
    [InlineData(0.05f, 0.8f, 0.95f, 1e-4f, 1000)]
    [InlineData(0.1f, 0f, 0f, 1e-6f, 2)]
    public void AdamUpdate_BitsDoNotDependOnPosition(float learningRate, float beta1, float beta2, float epsilon, int step)
    {
        float[][] tuples = Tuples(47 + step, 4, specials: false);
        foreach (float[] tuple in tuples)
        {
            tuple[3] = Math.Abs(tuple[3]);   // the second moment is never negative
        }

        tuples[0][1] = 0f;
        tuples[1][1] = 0f;
        tuples[1][2] = 0f;
        tuples[1][3] = 0f;
        var settings = new AdamStep(learningRate, beta1, beta2, epsilon, step);
        AssertPositionIndependent($"Adam {settings}", tuples, [0, 2, 3], (k, b) => k.AdamUpdate(b[0], b[1], b[2], b[3], settings));
    }

    [Theory]
    [InlineData(0.05f, 0f)]
    [InlineData(0.05f, 0.9f)]
    [InlineData(1.5f, 0.5f)]
    public void SgdUpdate_BitsDoNotDependOnPosition(float learningRate, float momentum)
    {
        if (momentum == 0)
        {
            AssertPositionIndependent("SGD", Tuples(60, 2, specials: false), [0], (k, b) => k.SgdUpdate(b[0], b[1], null, learningRate, 0f));
        }
        else
        {
            AssertPositionIndependent($"SGD with momentum {momentum}", Tuples(61, 3, specials: false), [0, 2], (k, b) => k.SgdUpdate(b[0], b[1], b[2], learningRate, momentum));
        }
    }

    // ---------------------------------------------------------------- Helpers

    private static bool IsAccelerated(GemmKernelKind kind) => kind switch
    {
        GemmKernelKind.Vector512 => Vector512.IsHardwareAccelerated,
        GemmKernelKind.Vector256 => Vector256.IsHardwareAccelerated,
        _ => true,
    };

    private static GemmKernelKind RequireAccelerated(string name)
    {
        var kind = Enum.Parse<GemmKernelKind>(name);
        Assert.SkipUnless(IsAccelerated(kind), $"{name} is not hardware-accelerated on this machine.");
        return kind;
    }

    private static int[] Positive(params int[] values) => [.. values.Where(static v => v > 0).Distinct()];

    private static float[] Run(CpuProvider provider, GemmKernelKind kind, int threads, GemmProblem problem)
    {
        var kernels = (CpuKernels)provider.Kernels;
        kernels.GemmKernel = kind;
        provider.KernelThreads = threads;
        try
        {
            using DeviceBuffer a = Upload(provider, problem.A);
            using DeviceBuffer b = Upload(provider, problem.B);
            using DeviceBuffer c = Upload(provider, problem.C);
            kernels.Gemm(problem.TransA, problem.TransB, problem.M, problem.N, problem.K, problem.Alpha, a, problem.Lda, b, problem.Ldb, problem.Beta, c, problem.Ldc);
            return Download(provider, c);
        }
        finally
        {
            kernels.GemmKernel = CpuGemm.BestKernel;
            provider.KernelThreads = 1;
        }
    }

    private static float[] RunOn(CpuProvider provider, CpuKernels kernels, Device device, GemmProblem problem)
    {
        using DeviceBuffer a = Upload(provider, problem.A, device);
        using DeviceBuffer b = Upload(provider, problem.B, device);
        using DeviceBuffer c = Upload(provider, problem.C, device);
        kernels.Gemm(problem.TransA, problem.TransB, problem.M, problem.N, problem.K, problem.Alpha, a, problem.Lda, b, problem.Ldb, problem.Beta, c, problem.Ldc);
        return Download(provider, c);
    }

    /// <summary>
    /// Runs <paramref name="kernel"/> on each tuple alone (length 1: the scalar tail only), then on vectors of many lengths
    /// where the same tuples fall at every offset of the SIMD body and the tail, and requires the same bits for each tuple.
    /// </summary>
    private static void AssertPositionIndependent(string what, float[][] tuples, int[] outputs, Action<DeviceKernels, DeviceBuffer[]> kernel)
    {
        using var provider = new CpuProvider(1);
        int arity = tuples[0].Length;
        var alone = new float[tuples.Length][];
        for (int s = 0; s < tuples.Length; s++)
        {
            alone[s] = RunTuples(provider, kernel, arity, outputs, 1, j => tuples[s][j.Operand]).Select(static o => o[0]).ToArray();
        }

        int v = Vector<float>.Count;
        int v512 = Vector512<float>.Count;
        int[] lengths = Positive(1, 2, v - 1, v, v + 1, (2 * v) - 1, (2 * v) + 1, v512 - 1, v512, v512 + 1, (2 * v512) + 3, 64, 1000, 1031);
        foreach (int length in lengths)
        {
            int offset = length % tuples.Length;
            float[][] results = RunTuples(provider, kernel, arity, outputs, length, j => tuples[(j.Index + offset) % tuples.Length][j.Operand]);
            for (int o = 0; o < outputs.Length; o++)
            {
                for (int i = 0; i < length; i++)
                {
                    int s = (i + offset) % tuples.Length;
                    float expected = alone[s][o];
                    float actual = results[o][i];
                    bool same = (float.IsNaN(expected) && float.IsNaN(actual)) || BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual);
                    Assert.True(
                        same,
                        $"{what}: operand {outputs[o]} of element {i} of {length} (tuple {s}: {string.Join(", ", tuples[s])}) is {actual} (0x{BitConverter.SingleToInt32Bits(actual):X8}), but {expected} (0x{BitConverter.SingleToInt32Bits(expected):X8}) alone.");
                }
            }
        }

        Assert.Equal(0, provider.LiveBufferCount);
    }

    private static float[][] RunTuples(CpuProvider provider, Action<DeviceKernels, DeviceBuffer[]> kernel, int arity, int[] outputs, int length, Func<(int Index, int Operand), float> value)
    {
        var buffers = new DeviceBuffer[arity];
        try
        {
            for (int operand = 0; operand < arity; operand++)
            {
                var values = new float[length];
                for (int i = 0; i < length; i++)
                {
                    values[i] = value((i, operand));
                }

                buffers[operand] = Upload(provider, values);
            }

            kernel(provider.Kernels, buffers);
            return [.. outputs.Select(o => Download(provider, buffers[o]))];
        }
        finally
        {
            foreach (DeviceBuffer? buffer in buffers)
            {
                buffer?.Dispose();
            }
        }
    }

    /// <summary>37 tuples of mixed magnitudes from 1e-4 to 1e4; with <paramref name="specials"/>, the first ones hold ±0, NaN and ±∞.</summary>
    private static float[][] Tuples(int seed, int arity, bool specials)
    {
        var random = new Random(seed);
        var tuples = new float[37][];
        for (int s = 0; s < tuples.Length; s++)
        {
            tuples[s] = new float[arity];
            for (int j = 0; j < arity; j++)
            {
                tuples[s][j] = (float)(((random.NextDouble() * 2) - 1) * Math.Pow(10, random.Next(-4, 5)));
            }
        }

        if (specials)
        {
            float[] values = [0f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1e-30f, -1e30f];
            for (int s = 0; s < values.Length * arity; s++)
            {
                tuples[s % tuples.Length][s % arity] = values[(s / arity) % values.Length];
            }
        }

        return tuples;
    }

    private static DeviceBuffer Upload(CpuProvider provider, float[] values, Device? device = null)
    {
        DeviceBuffer buffer = provider.Allocate<float>(device ?? provider.Devices[0], values.Length);
        provider.CopyFromHost<float>(values, buffer);
        return buffer;
    }

    private static float[] Download(CpuProvider provider, DeviceBuffer buffer)
    {
        var values = new float[buffer.Length];
        provider.CopyToHost<float>(buffer, 0, values);
        return values;
    }

    private static void AssertBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail($"{what}: element {i} is {actual[i]} (0x{BitConverter.SingleToInt32Bits(actual[i]):X8}), expected {expected[i]} (0x{BitConverter.SingleToInt32Bits(expected[i]):X8}).");
            }
        }
    }

    /// <summary>One GEMM's operands, stored with optional padding (NaN in A and B, a sentinel in C), and its reference.</summary>
    private sealed class GemmProblem
    {
        private const float Sentinel = -12345.5f;

        public GemmProblem(MatrixOperation transA, MatrixOperation transB, int m, int n, int k, float alpha, float beta, int pad, int seed, bool nanC = false)
        {
            TransA = transA;
            TransB = transB;
            M = m;
            N = n;
            K = k;
            Alpha = alpha;
            Beta = beta;
            (int aRows, int aColumns) = transA == MatrixOperation.None ? (m, k) : (k, m);
            (int bRows, int bColumns) = transB == MatrixOperation.None ? (k, n) : (n, k);
            Lda = Math.Max(1, aColumns) + pad;
            Ldb = Math.Max(1, bColumns) + (2 * pad);
            Ldc = Math.Max(1, n) + (3 * pad);
            var random = new Random(seed);
            A = Stored(random, aRows, aColumns, Lda, float.NaN, nan: false);
            B = Stored(random, bRows, bColumns, Ldb, float.NaN, nan: false);
            C = Stored(random, m, n, Ldc, Sentinel, nanC);
        }

        public MatrixOperation TransA { get; }

        public MatrixOperation TransB { get; }

        public int M { get; }

        public int N { get; }

        public int K { get; }

        public float Alpha { get; }

        public float Beta { get; }

        public int Lda { get; }

        public int Ldb { get; }

        public int Ldc { get; }

        public float[] A { get; }

        public float[] B { get; }

        public float[] C { get; }

        public void AssertMatchesReference(float[] result, string label)
        {
            string what = $"{label}: GEMM {TransA}/{TransB} m={M} n={N} k={K} alpha={Alpha} beta={Beta} lda={Lda} ldb={Ldb} ldc={Ldc}";
            Assert.Equal(C.Length, result.Length);
            for (int index = 0; index < result.Length; index++)
            {
                int i = index / Ldc;
                int j = index % Ldc;
                if (i >= M || j >= N)
                {
                    if (BitConverter.SingleToInt32Bits(result[index]) != BitConverter.SingleToInt32Bits(C[index]))
                    {
                        Assert.Fail($"{what}: padding element {index} changed from {C[index]} to {result[index]}.");
                    }

                    continue;
                }

                double dot = 0;
                double magnitude = 0;
                for (int p = 0; p < K; p++)
                {
                    double a = TransA == MatrixOperation.None ? A[(i * Lda) + p] : A[(p * Lda) + i];
                    double b = TransB == MatrixOperation.None ? B[(p * Ldb) + j] : B[(j * Ldb) + p];
                    dot += a * b;
                    magnitude += Math.Abs(a * b);
                }

                double old = Beta == 0 ? 0 : (double)Beta * C[index];
                double expected = (Alpha * dot) + old;
                double bound = 2 * Eps * (K + 2) * ((Math.Abs(Alpha) * magnitude) + Math.Abs(old));
                if (!(Math.Abs(result[index] - expected) <= bound))
                {
                    Assert.Fail($"{what}: C[{i},{j}] is {result[index]}, expected {expected} ± {bound}.");
                }
            }
        }

        private static float[] Stored(Random random, int rows, int columns, int ld, float padding, bool nan)
        {
            var data = new float[(rows * ld) + 3];
            data.AsSpan().Fill(padding);
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < columns; c++)
                {
                    data[(r * ld) + c] = nan ? float.NaN : (float)((random.NextDouble() * 2) - 1);
                }
            }

            return data;
        }
    }
}
