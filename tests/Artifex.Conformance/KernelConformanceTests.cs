using System.Runtime.InteropServices;

namespace Artifex.Conformance;

/// <summary>
/// The kernel contract (<see cref="DeviceKernels"/>): GEMM, the BLAS-1 and elementwise kernels, bias and column sums,
/// softmax cross-entropy and the optimizer updates, each against a naive double-precision host reference with an error
/// bound; and validation, where every bad input throws the documented exception naming the parameter before any buffer
/// changes.
/// </summary>
public abstract class KernelConformanceTests : ProviderTestBase
{
    /// <summary>What padding and tails hold; a kernel must never write it.</summary>
    private const float Sentinel = -12345.5f;

    /// <summary>2⁻²³, twice the unit roundoff of <see cref="float"/>.</summary>
    private const double Eps = 1.1920928955078125e-7;

    private static readonly MatrixOperation[] s_operations = [MatrixOperation.None, MatrixOperation.Transpose];

    private static readonly Dictionary<string, BadInput> s_badInputs = BuildBadInputs();

    public static TheoryData<int, int, int> GemmShapes => new()
    {
        { 0, 7, 17 }, { 7, 0, 17 }, { 7, 17, 0 }, { 0, 0, 0 }, { 1, 1, 1 }, { 1, 17, 7 }, { 17, 1, 255 }, { 7, 255, 1 },
        { 255, 7, 17 }, { 17, 17, 17 }, { 7, 17, 255 }, { 255, 255, 7 }, { 17, 255, 255 }, { 1, 255, 255 }, { 1003, 17, 263 },
    };

    public static TheoryData<int, int, int> PaddedGemmShapes => new()
    {
        { 1, 1, 1 }, { 7, 17, 1 }, { 17, 7, 255 }, { 7, 1, 257 }, { 255, 17, 7 },
    };

    public static TheoryData<float, float> AlphaBeta => new()
    {
        { 1f, 0f }, { 1f, 1f }, { -0.5f, 2f }, { 2.5f, -1f }, { 0.25f, 0.75f }, { 1f, -1f }, { -3f, 0f },
    };

    public static TheoryData<int> Lengths => [0, 1, 7, 17, 1000, 1031];

    public static TheoryData<int, int> MatrixSizes => new()
    {
        { 0, 1 }, { 0, 17 }, { 1, 1 }, { 1, 17 }, { 7, 7 }, { 7, 300 }, { 33, 1 }, { 33, 17 }, { 3, 0 }, { 0, 0 },
    };

    public static TheoryData<int, int> SoftmaxSizes => new()
    {
        { 0, 3 }, { 1, 1 }, { 1, 7 }, { 3, 2 }, { 7, 17 }, { 17, 1000 },
    };

    public static TheoryData<int, int, float> SoftmaxBackwardCases => new()
    {
        { 0, 3, 1f }, { 1, 1, 1f }, { 7, 17, 1f / 7 }, { 5, 1000, -2f }, { 3, 2, 0f },
    };

    public static TheoryData<int, float, float, float, float> AdamCases => new()
    {
        { 1031, 1e-2f, 0.9f, 0.999f, 1e-8f },
        { 17, 3e-4f, 0.5f, 0.9f, 1e-3f },
        { 7, 0.1f, 0f, 0f, 1e-6f },
        { 1, 0f, 0.9f, 0.999f, 1e-8f },
        { 0, 1e-3f, 0.9f, 0.999f, 1e-8f },
    };

    public static TheoryData<int, float, float, bool> SgdCases => new()
    {
        { 1031, 0.05f, 0f, false },
        { 1031, 0.05f, 0f, true },
        { 1031, 0.05f, 0.9f, true },
        { 7, 0.5f, 0.5f, true },
        { 1, 0f, 0.9f, true },
        { 0, 0.1f, 0.9f, true },
    };

    public static TheoryData<string> BadInputs => [.. s_badInputs.Keys];

    /// <summary>Gets the GEMM error bound per unit of k: |C − reference| ≤ this · (k + 2) · Σ|terms|. About 2u for float.</summary>
    protected virtual double GemmUnitError => 2 * Eps;

    // ---------------------------------------------------------------- GEMM

    [Fact]
    public void Kernels_BelongToTheProvider() => WithProvider(1, provider =>
    {
        Assert.Same(provider, provider.Kernels.Provider);
        Assert.Same(provider.Kernels, provider.Kernels);
    });

    [Theory]
    [MemberData(nameof(GemmShapes))]
    public void Gemm_DenseOddShapes_AllTransposes_MatchReference(int m, int n, int k) => WithProvider(1, provider =>
    {
        foreach (MatrixOperation transA in s_operations)
        {
            foreach (MatrixOperation transB in s_operations)
            {
                CheckGemm(provider, new GemmCase(transA, transB, m, n, k, 1.5f, -0.5f, Pad: 0, NanC: false, Seed: m + (3 * n) + (7 * k)));
            }
        }
    });

    [Theory]
    [MemberData(nameof(PaddedGemmShapes))]
    public void Gemm_LeadingDimensionsLargerThanRows_PaddingUntouchedAndNeverRead(int m, int n, int k) => WithProvider(1, provider =>
    {
        foreach (MatrixOperation transA in s_operations)
        {
            foreach (MatrixOperation transB in s_operations)
            {
                CheckGemm(provider, new GemmCase(transA, transB, m, n, k, -1.25f, 0.5f, Pad: 3, NanC: false, Seed: 11 * (m + n + k)));
            }
        }
    });

    [Theory]
    [MemberData(nameof(AlphaBeta))]
    public void Gemm_AlphaBetaCombinations_MatchReference(float alpha, float beta) => WithProvider(1, provider =>
    {
        foreach (MatrixOperation transA in s_operations)
        {
            foreach (MatrixOperation transB in s_operations)
            {
                CheckGemm(provider, new GemmCase(transA, transB, 17, 7, 255, alpha, beta, Pad: 0, NanC: false, Seed: 5));
                CheckGemm(provider, new GemmCase(transA, transB, 7, 17, 257, alpha, beta, Pad: 2, NanC: false, Seed: 6));
            }
        }
    });

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 17, 17)]
    [InlineData(17, 7, 300)]
    [InlineData(255, 17, 7)]
    public void Gemm_BetaZeroWithNaNFilledC_NaNDoesNotPropagate(int m, int n, int k) => WithProvider(1, provider =>
    {
        foreach (MatrixOperation transA in s_operations)
        {
            foreach (MatrixOperation transB in s_operations)
            {
                CheckGemm(provider, new GemmCase(transA, transB, m, n, k, 0.75f, 0f, Pad: 0, NanC: true, Seed: 21));
                CheckGemm(provider, new GemmCase(transA, transB, m, n, k, 1f, 0f, Pad: 1, NanC: true, Seed: 22));
            }
        }
    });

    [Theory]
    [InlineData(0f, true)]
    [InlineData(1f, false)]
    [InlineData(-2.5f, false)]
    [InlineData(0.5f, false)]
    public void Gemm_KZero_CIsBetaTimesC(float beta, bool nanC) => WithProvider(1, provider =>
    {
        foreach (MatrixOperation transA in s_operations)
        {
            foreach (MatrixOperation transB in s_operations)
            {
                CheckGemm(provider, new GemmCase(transA, transB, 7, 17, 0, 1.5f, beta, Pad: 0, NanC: nanC, Seed: 31));
                CheckGemm(provider, new GemmCase(transA, transB, 17, 7, 0, 1.5f, beta, Pad: 2, NanC: nanC, Seed: 32));
            }
        }
    });

    [Theory]
    [InlineData(0f, true)]
    [InlineData(1f, false)]
    [InlineData(-0.5f, false)]
    public void Gemm_AlphaZero_CIsBetaTimesC(float beta, bool nanC) => WithProvider(1, provider =>
    {
        foreach (MatrixOperation transA in s_operations)
        {
            foreach (MatrixOperation transB in s_operations)
            {
                CheckGemm(provider, new GemmCase(transA, transB, 7, 17, 255, 0f, beta, Pad: 0, NanC: nanC, Seed: 41));
            }
        }
    });

    [Fact]
    public void Gemm_KnownProduct_ExactIntegers() => WithProvider(1, provider =>
    {
        // [1 2 3; 4 5 6] · [7 8; 9 10; 11 12] = [58 64; 139 154]; then 2·that − 1·C.
        using DeviceBuffer a = Upload(provider, [1f, 2, 3, 4, 5, 6]);
        using DeviceBuffer b = Upload(provider, [7f, 8, 9, 10, 11, 12]);
        using DeviceBuffer c = Upload(provider, [1f, 1, 1, 1]);
        provider.Kernels.Gemm(MatrixOperation.None, MatrixOperation.None, 2, 2, 3, 2f, a, b, -1f, c);
        Assert.Equal([115f, 127, 277, 307], Download(provider, c));

        // Aᵀ stored as 3×2 and Bᵀ stored as 2×3 give the same product.
        using DeviceBuffer at = Upload(provider, [1f, 4, 2, 5, 3, 6]);
        using DeviceBuffer bt = Upload(provider, [7f, 9, 11, 8, 10, 12]);
        provider.Kernels.Gemm(MatrixOperation.Transpose, MatrixOperation.Transpose, 2, 2, 3, 1f, at, bt, 0f, c);
        Assert.Equal([58f, 64, 139, 154], Download(provider, c));
    });

    [Theory]
    [InlineData(MatrixOperation.None, MatrixOperation.Transpose)]
    [InlineData(MatrixOperation.Transpose, MatrixOperation.None)]
    public void Gemm_AIsAlsoB_GramMatrixMatchesReference(MatrixOperation transA, MatrixOperation transB) => WithProvider(1, provider =>
    {
        // A·Aᵀ (or Aᵀ·A) with one buffer passed as both inputs: inputs may alias each other, only C may not.
        const int rows = 9;
        const int columns = 37;
        float[] a = Values(new Random(51), rows * columns);
        int size = transA == MatrixOperation.None ? rows : columns;
        int depth = transA == MatrixOperation.None ? columns : rows;
        using DeviceBuffer ab = Upload(provider, a);
        using DeviceBuffer cb = Upload(provider, [.. Enumerable.Repeat(float.NaN, size * size)]);
        provider.Kernels.Gemm(transA, transB, size, size, depth, 1f, ab, ab, 0f, cb);
        float[] c = Download(provider, cb);
        for (int i = 0; i < size; i++)
        {
            for (int j = 0; j < size; j++)
            {
                double dot = 0;
                double magnitude = 0;
                for (int p = 0; p < depth; p++)
                {
                    double product = transA == MatrixOperation.None ? (double)a[(i * columns) + p] * a[(j * columns) + p] : (double)a[(p * columns) + i] * a[(p * columns) + j];
                    dot += product;
                    magnitude += Math.Abs(product);
                }

                double bound = GemmUnitError * (depth + 2) * magnitude;
                Assert.True(Math.Abs(c[(i * size) + j] - dot) <= bound, $"Gram matrix [{i},{j}] is {c[(i * size) + j]}, expected {dot} ± {bound}.");
            }
        }

        AssertBits(a, Download(provider, ab), "A");
    });

    [Theory]
    [MemberData(nameof(DeviceCounts))]
    public void Kernels_OnEveryDevice_OutsideAndInsideAnSpmdRegion_MatchReference(int deviceCount) => WithProvider(deviceCount, provider =>
    {
        // A dense layer forward and its bias gradient, on each device's own buffers: relu(x·W + b) and Σ_rows.
        const int batch = 13;
        const int inputs = 33;
        const int outputs = 9;
        float[][] expected = new float[deviceCount][];
        float[][] inRegion = new float[deviceCount][];
        foreach (Device device in provider.Devices)
        {
            expected[device.Id] = DenseLayer(provider, device, batch, inputs, outputs, seed: device.Id);
            CheckDenseLayer(batch, inputs, outputs, device.Id, expected[device.Id], $"device {device.Id} outside a region");
        }

        var mesh = new Mesh(provider.Devices, ("data", deviceCount));
        provider.RunSpmd(mesh, context => inRegion[context.DeviceIndex] = DenseLayer(provider, context.Device, batch, inputs, outputs, seed: context.Device.Id));
        for (int d = 0; d < deviceCount; d++)
        {
            CheckDenseLayer(batch, inputs, outputs, d, inRegion[d], $"device {d} in a region");
        }
    });

    [Fact]
    public void ColumnSums_AddRowsInRowOrder_BitExact() => WithProvider(1, provider =>
    {
        // The contract adds in row order, so ((0 + 1e8) + 1) − 1e8 = 0 in float, where another order would give 1.
        float[] matrix =
        [
            1e8f, 1f, -1f, 3f,
            1f, 1e8f, 1e-8f, 0.1f,
            -1e8f, -1e8f, 1f, 0.2f,
        ];
        using DeviceBuffer mb = Upload(provider, matrix);
        using DeviceBuffer sb = Upload(provider, new float[4]);
        provider.Kernels.ColumnSums(mb, 3, 4, sb);
        var expected = new float[4];
        for (int r = 0; r < 3; r++)
        {
            for (int c = 0; c < 4; c++)
            {
                expected[c] += matrix[(r * 4) + c];
            }
        }

        Assert.Equal(0f, expected[0]);
        AssertBits(expected, Download(provider, sb), "column sums in row order");
    });

    // ---------------------------------------------------------------- BLAS-1 and elementwise

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Axpy_MatchesReferenceAndLeavesXUnchanged(int length) => WithProvider(1, provider =>
    {
        var random = new Random(100 + length);
        float[] x = Values(random, length);
        float[] y = Values(random, length);
        const float alpha = -1.75f;
        using DeviceBuffer xb = Upload(provider, x);
        using DeviceBuffer yb = Upload(provider, y);
        provider.Kernels.Axpy(alpha, xb, yb);
        AssertWithin(
            Download(provider, yb),
            [.. x.Select((v, i) => (alpha * (double)v) + y[i])],
            [.. x.Select((v, i) => 2 * Eps * (Math.Abs(alpha * (double)v) + Math.Abs(y[i])))],
            "axpy");
        AssertBits(x, Download(provider, xb), "axpy's x");

        // x is also y (an output may alias an input of the same length): y = (alpha + 1)·x.
        provider.Kernels.Axpy(alpha, xb, xb);
        AssertWithin(
            Download(provider, xb),
            [.. x.Select(v => (alpha * (double)v) + v)],
            [.. x.Select(v => 2 * Eps * (Math.Abs(alpha * (double)v) + Math.Abs(v)))],
            "axpy of x into itself");
    });

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Scale_MatchesReference(int length) => WithProvider(1, provider =>
    {
        float[] x = Values(new Random(200 + length), length);
        using DeviceBuffer xb = Upload(provider, x);
        provider.Kernels.Scale(-0.3f, xb);
        AssertWithin(Download(provider, xb), [.. x.Select(v => -0.3f * (double)v)], [.. x.Select(v => Eps * Math.Abs(0.3 * v))], "scale");
        provider.Kernels.Scale(0f, xb);
        Assert.All(Download(provider, xb), static v => Assert.True(v == 0, $"0·x is {v}."));
    });

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ScaleAndDivide_SingleAndDouble_OneRoundingInTheElementType(int length) => WithProvider(1, provider =>
    {
        float[] x = Values(new Random(250 + length), length);
        double[] y = [.. x.Select(static v => (double)v * Math.PI)];
        using DeviceBuffer xb = Upload(provider, x);
        using DeviceBuffer yb = provider.Allocate<double>(provider.Devices[0], length);
        provider.CopyFromHost<double>(y, yb);
        provider.Kernels.Divide(xb, 3);
        provider.Kernels.Scale(0.1, yb);
        provider.Kernels.Divide(yb, 7);
        AssertBits([.. x.Select(static v => v / 3f)], Download(provider, xb), "x / 3 in Single");
        var yd = new double[length];
        provider.CopyToHost<double>(yb, 0, yd);
        Assert.Equal([.. y.Select(static v => v * 0.1 / 7)], yd);
    });

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Fill_SetsEveryElement(int length) => WithProvider(1, provider =>
    {
        using DeviceBuffer xb = Upload(provider, Values(new Random(length), length));
        provider.Kernels.Fill(xb, 3.25f);
        AssertBits([.. Enumerable.Repeat(3.25f, length)], Download(provider, xb), "fill 3.25");
        provider.Kernels.Fill(xb, -0f);
        AssertBits([.. Enumerable.Repeat(-0f, length)], Download(provider, xb), "fill −0");
        provider.Kernels.Fill(xb, float.NaN);
        Assert.All(Download(provider, xb), v => Assert.True(float.IsNaN(v)));
    });

    [Theory]
    [MemberData(nameof(Lengths))]
    public void CanonicalizeNaN_EveryNaNPayloadBecomesTheCanonicalNaN_OtherValuesKeepTheirBits(int length) => WithProvider(1, provider =>
    {
        float[] values = Values(new Random(700 + length), length);
        for (int i = 0; i < length; i += 3)
        {
            values[i] = BitConverter.Int32BitsToSingle(0x7FC00000 | (i + 1)); // a quiet NaN with a payload
        }

        if (length > 2)
        {
            (values[1], values[2]) = (-0f, float.NegativeInfinity);
        }

        using DeviceBuffer xb = Upload(provider, values);
        provider.Kernels.CanonicalizeNaN(xb);
        AssertBits([.. values.Select(static v => float.IsNaN(v) ? float.NaN : v)], Download(provider, xb), "canonical NaN");
    });

    [Theory]
    [InlineData(0, -1)]
    [InlineData(100, -1)]
    [InlineData(100, 37)]
    [InlineData(5000, 4999)]
    public void ReproducibleFindOutsideWindow_FirstValueAbove2To30OrInfinite_NaNPasses(int length, int bad) => WithProvider(1, provider =>
    {
        float[] values = Values(new Random(length), length);
        if (length > 0)
        {
            values[0] = float.NaN;
        }

        if (bad >= 0)
        {
            values[bad] = 2e9f;
            values[^1] = float.PositiveInfinity;
        }

        using DeviceBuffer xb = Upload(provider, values);
        Assert.Equal(bad, provider.Kernels.ReproducibleFindOutsideWindow(xb));
    });

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Add_SeparateAndInPlace_MatchReference(int length) => CheckBinary(length, "add", static (k, x, y, r) => k.Add(x, y, r), static (x, y) => (double)x + y);

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Multiply_SeparateAndInPlace_MatchReference(int length) => CheckBinary(length, "multiply", static (k, x, y, r) => k.Multiply(x, y, r), static (x, y) => (double)x * y);

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Relu_NegativeZeroNaN_SeparateAndInPlace(int length) => WithProvider(1, provider =>
    {
        float[] x = Specials(new Random(400 + length), length);
        double[] expected = [.. x.Select(static v => float.IsNaN(v) ? double.NaN : Math.Max(v, 0.0))];
        double[] exact = new double[length];
        using DeviceBuffer xb = Upload(provider, x);
        using DeviceBuffer rb = Upload(provider, [.. Enumerable.Repeat(Sentinel, length)]);
        provider.Kernels.Relu(xb, rb);
        AssertWithin(Download(provider, rb), expected, exact, "relu");
        AssertBits(x, Download(provider, xb), "relu's input");
        provider.Kernels.Relu(xb, xb);
        AssertWithin(Download(provider, xb), expected, exact, "relu in place");
    });

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ReluBackward_PassesGradientWhereOutputIsPositive(int length) => WithProvider(1, provider =>
    {
        var random = new Random(500 + length);
        float[] output = [.. Specials(random, length).Select(static v => float.IsNaN(v) || v >= 0 ? v : 0f)];
        float[] gradient = Values(random, length);
        for (int i = 0; i < length; i += 5)
        {
            gradient[i] = float.NaN;
        }

        // output > 0 ? gradOutput : 0, so a NaN gradient where the output is not positive gives 0, not NaN.
        double[] expected = [.. gradient.Select((g, i) => output[i] > 0 ? g : 0.0)];
        double[] exact = new double[length];
        using DeviceBuffer gb = Upload(provider, gradient);
        using DeviceBuffer yb = Upload(provider, output);
        using DeviceBuffer rb = Upload(provider, [.. Enumerable.Repeat(Sentinel, length)]);
        provider.Kernels.ReluBackward(gb, yb, rb);
        AssertWithin(Download(provider, rb), expected, exact, "relu backward");
        AssertBits(gradient, Download(provider, gb), "relu backward's gradOutput");
        AssertBits(output, Download(provider, yb), "relu backward's output");
        provider.Kernels.ReluBackward(gb, yb, yb);
        AssertWithin(Download(provider, yb), expected, exact, "relu backward into the output");
        provider.Kernels.ReluBackward(gb, gb, gb);
        AssertWithin(Download(provider, gb), [.. gradient.Select(static g => g > 0 ? g : 0.0)], exact, "relu backward of the gradient by itself");
        provider.CopyFromHost<float>(gradient, gb);
        provider.CopyFromHost<float>(output, yb);
        provider.Kernels.ReluBackward(gb, yb, gb);
        AssertWithin(Download(provider, gb), expected, exact, "relu backward in place");
    });

    [Theory]
    [MemberData(nameof(MatrixSizes))]
    public void AddBias_AddsTheRowToEveryRow(int rows, int columns) => WithProvider(1, provider =>
    {
        var random = new Random((rows * 1000) + columns);
        float[] matrix = [.. Values(random, rows * columns), Sentinel, Sentinel, Sentinel];
        float[] bias = Values(random, columns);
        using DeviceBuffer mb = Upload(provider, matrix);
        using DeviceBuffer bb = Upload(provider, bias);
        provider.Kernels.AddBias(mb, rows, columns, bb);
        float[] result = Download(provider, mb);
        int count = rows * columns;
        AssertWithin(
            result[..count],
            [.. Enumerable.Range(0, count).Select(i => (double)matrix[i] + bias[i % columns])],
            [.. Enumerable.Range(0, count).Select(i => Eps * Math.Abs((double)matrix[i] + bias[i % columns]))],
            "bias");
        AssertBits([Sentinel, Sentinel, Sentinel], result[count..], "the matrix buffer's tail");
        AssertBits(bias, Download(provider, bb), "the bias");

        // One row whose bias is the row itself: an output aliasing an input of the same length doubles it.
        if (rows > 0)
        {
            provider.Kernels.AddBias(bb, 1, columns, bb);
            AssertWithin(Download(provider, bb), [.. bias.Select(static b => 2.0 * b)], new double[columns], "a row plus itself as its bias");
        }
    });

    [Theory]
    [MemberData(nameof(MatrixSizes))]
    public void ColumnSums_SumRowsAndOverwriteNaN(int rows, int columns) => WithProvider(1, provider =>
    {
        float[] matrix = Values(new Random((rows * 77) + columns), rows * columns);
        using DeviceBuffer mb = Upload(provider, matrix);
        using DeviceBuffer sb = Upload(provider, [.. Enumerable.Repeat(float.NaN, columns), Sentinel, Sentinel]);
        provider.Kernels.ColumnSums(mb, rows, columns, sb);
        float[] sums = Download(provider, sb);
        var expected = new double[columns];
        var bound = new double[columns];
        for (int c = 0; c < columns; c++)
        {
            double magnitude = 0;
            for (int r = 0; r < rows; r++)
            {
                expected[c] += matrix[(r * columns) + c];
                magnitude += Math.Abs(matrix[(r * columns) + c]);
            }

            bound[c] = Eps * (rows + 1) * magnitude;
        }

        AssertWithin(sums[..columns], expected, bound, rows == 0 ? "column sums of no rows (zeros)" : "column sums");
        AssertBits([Sentinel, Sentinel], sums[columns..], "the sums buffer's tail");
        AssertBits(matrix, Download(provider, mb), "the matrix");
    });

    // ---------------------------------------------------------------- Softmax cross-entropy

    [Theory]
    [MemberData(nameof(SoftmaxSizes))]
    public void SoftmaxCrossEntropy_ProbabilitiesAndLossesMatchReference(int rows, int classes) => WithProvider(1, provider =>
    {
        var random = new Random((rows * 31) + classes);
        float[] logits = [.. Values(random, rows * classes).Select(static v => 5 * v)];
        int[] labels = [.. Enumerable.Range(0, rows).Select(r => (r * 7) % classes)];
        CheckSoftmax(provider, logits, labels, rows, classes, alias: false);
    });

    [Fact]
    public void SoftmaxCrossEntropy_LargeLogits_StableAndFinite() => WithProvider(1, provider =>
    {
        float[] logits =
        [
            1000, 999, -1000, 0,
            -1000, -1001, -999.5f, -1002,
            88, 89, 90, 91,
            1e4f, 1e4f, 1e4f, 1e4f,
            3e38f, 0, 3e38f, -3e38f,
            -87, -88, -89, -104,
        ];
        int[] labels = [1, 3, 0, 2, 0, 3];
        CheckSoftmax(provider, logits, labels, 6, 4, alias: false);
        CheckSoftmax(provider, logits, labels, 6, 4, alias: true);
    });

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 17)]
    [InlineData(3, 1000)]
    public void SoftmaxCrossEntropy_ProbabilitiesOverwriteLogits_MatchReference(int rows, int classes) => WithProvider(1, provider =>
    {
        var random = new Random((rows * 13) + classes);
        float[] logits = [.. Values(random, rows * classes).Select(static v => 20 * v)];
        int[] labels = [.. Enumerable.Range(0, rows).Select(r => classes - 1 - (r % classes))];
        CheckSoftmax(provider, logits, labels, rows, classes, alias: true);
    });

    [Theory]
    [MemberData(nameof(SoftmaxBackwardCases))]
    public void SoftmaxCrossEntropyBackward_IsScaledProbabilitiesMinusOneHot(int rows, int classes, float scale) => WithProvider(1, provider =>
    {
        var random = new Random((rows * 17) + classes);
        float[] probabilities = [.. Values(random, rows * classes).Select(static v => Math.Abs(v))];
        int[] labels = [.. Enumerable.Range(0, rows).Select(r => (r * 5) % classes)];
        var expected = new double[rows * classes];
        var bound = new double[rows * classes];
        for (int i = 0; i < expected.Length; i++)
        {
            bool target = labels[i / classes] == i % classes;
            expected[i] = scale * (probabilities[i] - (target ? 1.0 : 0.0));
            bound[i] = 2 * Eps * Math.Abs(scale) * (probabilities[i] + (target ? 1.0 : 0.0));
        }

        using DeviceBuffer pb = Upload(provider, probabilities);
        using DeviceBuffer lb = Upload(provider, labels);
        using DeviceBuffer gb = Upload(provider, [.. Enumerable.Repeat(Sentinel, (rows * classes) + 2)]);
        provider.Kernels.SoftmaxCrossEntropyBackward(pb, lb, rows, classes, scale, gb);
        float[] gradient = Download(provider, gb);
        AssertWithin(gradient[..(rows * classes)], expected, bound, "softmax cross-entropy gradient");
        AssertBits([Sentinel, Sentinel], gradient[(rows * classes)..], "the gradient buffer's tail");
        AssertBits(probabilities, Download(provider, pb), "the probabilities");

        provider.Kernels.SoftmaxCrossEntropyBackward(pb, lb, rows, classes, scale, pb);
        AssertWithin(Download(provider, pb), expected, bound, "softmax cross-entropy gradient in place");
    });

    // ---------------------------------------------------------------- Optimizers

    [Theory]
    [MemberData(nameof(AdamCases))]
    public void AdamUpdate_SeveralSteps_MatchesDoubleReference(int length, float learningRate, float beta1, float beta2, float epsilon) => WithProvider(1, provider =>
    {
        const int steps = 6;
        var random = new Random(length + 7);
        float[] parameters = Values(random, length);
        var p = parameters.Select(static v => (double)v).ToArray();
        var m = new double[length];
        var v = new double[length];
        var gradientScale = new double[length];
        using DeviceBuffer pb = Upload(provider, parameters);
        using DeviceBuffer gb = Upload(provider, new float[length]);
        using DeviceBuffer mb = Upload(provider, new float[length]);
        using DeviceBuffer vb = Upload(provider, new float[length]);
        for (int step = 1; step <= steps; step++)
        {
            float[] gradients = Values(random, length);
            for (int i = 0; i < length; i++)
            {
                // Element 1 never gets a gradient (it must not move); element 2 gets large ones.
                gradients[i] = i == 1 ? 0f : i == 2 ? gradients[i] * 1000 : gradients[i];
                gradientScale[i] = Math.Max(gradientScale[i], Math.Abs(gradients[i]));
            }

            provider.CopyFromHost<float>(gradients, gb);
            provider.Kernels.AdamUpdate(pb, gb, mb, vb, new AdamStep(learningRate, beta1, beta2, epsilon, step));

            double stepSize = learningRate / (1 - Math.Pow(beta1, step));
            double correction2 = Math.Sqrt(1 - Math.Pow(beta2, step));
            for (int i = 0; i < length; i++)
            {
                double g = gradients[i];
                m[i] = (beta1 * m[i]) + ((1 - (double)beta1) * g);
                v[i] = (beta2 * v[i]) + ((1 - (double)beta2) * g * g);
                p[i] -= stepSize * m[i] / ((Math.Sqrt(v[i]) / correction2) + epsilon);
            }

            string at = $"Adam step {step} (lr {learningRate}, betas {beta1} and {beta2}, epsilon {epsilon})";
            AssertWithin(Download(provider, mb), m, [.. gradientScale.Select(static s => 1e-5 * s)], $"{at}: first moment");
            AssertWithin(Download(provider, vb), v, [.. gradientScale.Select(static s => 1e-5 * s * s)], $"{at}: second moment");
            AssertWithin(Download(provider, pb), p, [.. p.Select(x => 1e-5 * (Math.Abs(x) + (learningRate * step)))], $"{at}: parameters");
            AssertBits(gradients, Download(provider, gb), $"{at}: gradients");
        }

        if (length > 1)
        {
            float[] after = Download(provider, pb);
            Assert.Equal(parameters[1], after[1]);
        }
    });

    [Fact]
    public void AdamUpdate_DefaultSettings_FirstStepMovesEachParameterByLearningRate() => WithProvider(1, provider =>
    {
        // On step 1, m̂ = g and √v̂ = |g|, so each parameter moves by lr·sign(g) (up to epsilon).
        using DeviceBuffer pb = Upload(provider, [1f, 1f, 1f, 1f]);
        using DeviceBuffer gb = Upload(provider, [2f, -0.5f, 1e-3f, 0f]);
        using DeviceBuffer mb = Upload(provider, new float[4]);
        using DeviceBuffer vb = Upload(provider, new float[4]);
        provider.Kernels.AdamUpdate(pb, gb, mb, vb, AdamStep.Default(0.1f, 1));
        AssertWithin(Download(provider, pb), [0.9, 1.1, 0.9, 1.0], [1e-6, 1e-6, 1e-5, 0], "Adam's first step");
    });

    [Theory]
    [MemberData(nameof(SgdCases))]
    public void SgdUpdate_WithAndWithoutMomentum_MatchesDoubleReference(int length, float learningRate, float momentum, bool passVelocity) => WithProvider(1, provider =>
    {
        const int steps = 5;
        var random = new Random(length + 11);
        float[] parameters = Values(random, length);
        var p = parameters.Select(static x => (double)x).ToArray();
        var velocity = new double[length];
        var gradientSum = new double[length];
        using DeviceBuffer pb = Upload(provider, parameters);
        using DeviceBuffer gb = Upload(provider, new float[length]);
        using DeviceBuffer vb = Upload(provider, new float[length]);
        for (int step = 1; step <= steps; step++)
        {
            float[] gradients = Values(random, length);
            provider.CopyFromHost<float>(gradients, gb);
            provider.Kernels.SgdUpdate(pb, gb, passVelocity ? vb : null, learningRate, momentum);
            for (int i = 0; i < length; i++)
            {
                gradientSum[i] += Math.Abs(gradients[i]);
                if (momentum > 0)
                {
                    velocity[i] = (momentum * velocity[i]) + gradients[i];
                    p[i] -= learningRate * velocity[i];
                }
                else
                {
                    p[i] -= learningRate * (double)gradients[i];
                }
            }

            string at = $"SGD step {step} (lr {learningRate}, momentum {momentum})";
            if (momentum > 0)
            {
                AssertWithin(Download(provider, vb), velocity, [.. gradientSum.Select(static s => 4 * steps * Eps * s)], $"{at}: velocity");
            }

            AssertWithin(Download(provider, pb), p, [.. p.Select((x, i) => 4 * steps * Eps * (Math.Abs(x) + (learningRate * steps * gradientSum[i])))], $"{at}: parameters");
        }
    });

    // ---------------------------------------------------------------- Validation

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Kernel_BadInput_ThrowsNamingParameterAndWritesNothing(string name) => WithProvider(2, provider =>
    {
        BadInput bad = s_badInputs[name];
        using var operands = new Operands(provider, CreateProvider(1));
        List<byte[]> before = operands.Snapshot();
        Exception error = Assert.Throws(bad.Exception, () => bad.Call(provider.Kernels, operands));
        if (error is ArgumentException argument)
        {
            Assert.Equal(bad.ParamName, argument.ParamName);
        }

        if (bad.MessagePart is not null)
        {
            Assert.Contains(bad.MessagePart, error.Message, StringComparison.Ordinal);
        }

        List<byte[]> after = operands.Snapshot();
        for (int i = 0; i < before.Count; i++)
        {
            Assert.True(before[i].AsSpan().SequenceEqual(after[i]), $"{operands.Names[i]} changed although {name} was rejected.");
        }
    });

    [Fact]
    public void Kernels_OfDisposedProvider_ThrowObjectDisposed()
    {
        using DeviceProvider provider = CreateProvider(1);
        DeviceKernels kernels = provider.Kernels;
        using DeviceBuffer x = provider.Allocate<float>(provider.Devices[0], 4);
        using DeviceBuffer y = provider.Allocate<float>(provider.Devices[0], 4);
        provider.Dispose();
        Assert.Throws<ObjectDisposedException>(() => kernels.Fill(x, 1f));
        Assert.Throws<ObjectDisposedException>(() => kernels.Axpy(1f, x, y));
        Assert.Throws<ObjectDisposedException>(() => kernels.Gemm(MatrixOperation.None, MatrixOperation.None, 2, 2, 2, 1f, x, y, 0f, x));
        Assert.Equal(0, provider.LiveBufferCount);
    }

    // ---------------------------------------------------------------- Helpers

    private void CheckGemm(DeviceProvider provider, GemmCase g)
    {
        int aRows = g.TransA == MatrixOperation.None ? g.M : g.K;
        int aColumns = g.TransA == MatrixOperation.None ? g.K : g.M;
        int bRows = g.TransB == MatrixOperation.None ? g.K : g.N;
        int bColumns = g.TransB == MatrixOperation.None ? g.N : g.K;
        int lda = Math.Max(1, aColumns) + g.Pad;
        int ldb = Math.Max(1, bColumns) + (g.Pad == 0 ? 0 : g.Pad + 2);
        int ldc = Math.Max(1, g.N) + (g.Pad == 0 ? 0 : g.Pad + 1);
        var random = new Random(g.Seed);

        // A's and B's padding is NaN: reading it would poison C.
        float[] a = Stored(random, aRows, aColumns, lda, float.NaN, nan: false);
        float[] b = Stored(random, bRows, bColumns, ldb, float.NaN, nan: false);
        float[] c = Stored(random, g.M, g.N, ldc, Sentinel, g.NanC);
        using DeviceBuffer ab = Upload(provider, a);
        using DeviceBuffer bb = Upload(provider, b);
        using DeviceBuffer cb = Upload(provider, c);
        if (g.Pad == 0)
        {
            provider.Kernels.Gemm(g.TransA, g.TransB, g.M, g.N, g.K, g.Alpha, ab, bb, g.Beta, cb);
        }
        else
        {
            provider.Kernels.Gemm(g.TransA, g.TransB, g.M, g.N, g.K, g.Alpha, ab, lda, bb, ldb, g.Beta, cb, ldc);
        }

        float[] result = Download(provider, cb);
        string what = $"GEMM {g.TransA}/{g.TransB} m={g.M} n={g.N} k={g.K} alpha={g.Alpha} beta={g.Beta} lda={lda} ldb={ldb} ldc={ldc}";
        AssertGemmResult(g, a, lda, b, ldb, c, ldc, result, what);
        AssertBits(a, Download(provider, ab), $"{what}: A");
        AssertBits(b, Download(provider, bb), $"{what}: B");
    }

    private void AssertGemmResult(GemmCase g, float[] a, int lda, float[] b, int ldb, float[] c, int ldc, float[] result, string what)
    {
        for (int index = 0; index < result.Length; index++)
        {
            int i = index / ldc;
            int j = index % ldc;
            if (i >= g.M || j >= g.N)
            {
                if (BitConverter.SingleToInt32Bits(result[index]) != BitConverter.SingleToInt32Bits(c[index]))
                {
                    Assert.Fail($"{what}: padding element {index} (row {i}, column {j}) changed from {c[index]} to {result[index]}.");
                }

                continue;
            }

            double dot = 0;
            double magnitude = 0;
            for (int p = 0; p < g.K; p++)
            {
                double av = g.TransA == MatrixOperation.None ? a[(i * lda) + p] : a[(p * lda) + i];
                double bv = g.TransB == MatrixOperation.None ? b[(p * ldb) + j] : b[(j * ldb) + p];
                dot += av * bv;
                magnitude += Math.Abs(av * bv);
            }

            double old = g.Beta == 0 ? 0 : (double)g.Beta * c[index];
            double expected = (g.Alpha * dot) + old;
            double bound = GemmUnitError * (g.K + 2) * ((Math.Abs(g.Alpha) * magnitude) + Math.Abs(old));
            if (!(Math.Abs(result[index] - expected) <= bound))
            {
                Assert.Fail($"{what}: C[{i},{j}] is {result[index]}, expected {expected} ± {bound}.");
            }
        }
    }

    private static float[] DenseLayer(DeviceProvider provider, Device device, int batch, int inputs, int outputs, int seed)
    {
        (float[] x, float[] w, float[] bias) = DenseLayerInputs(batch, inputs, outputs, seed);
        using DeviceBuffer xb = Upload(provider, x, device);
        using DeviceBuffer wb = Upload(provider, w, device);
        using DeviceBuffer bb = Upload(provider, bias, device);
        using DeviceBuffer yb = provider.Allocate<float>(device, batch * outputs);
        using DeviceBuffer sb = provider.Allocate<float>(device, outputs);
        provider.Kernels.Gemm(MatrixOperation.None, MatrixOperation.None, batch, outputs, inputs, 1f, xb, wb, 0f, yb);
        provider.Kernels.AddBias(yb, batch, outputs, bb);
        provider.Kernels.Relu(yb, yb);
        provider.Kernels.ColumnSums(yb, batch, outputs, sb);
        return [.. Download(provider, yb), .. Download(provider, sb)];
    }

    private static (float[] X, float[] W, float[] Bias) DenseLayerInputs(int batch, int inputs, int outputs, int seed)
    {
        var random = new Random(1000 + seed);
        return (Values(random, batch * inputs), Values(random, inputs * outputs), Values(random, outputs));
    }

    private static void CheckDenseLayer(int batch, int inputs, int outputs, int seed, float[] actual, string what)
    {
        (float[] x, float[] w, float[] bias) = DenseLayerInputs(batch, inputs, outputs, seed);
        var expected = new double[(batch * outputs) + outputs];
        var bound = new double[expected.Length];
        for (int r = 0; r < batch; r++)
        {
            for (int c = 0; c < outputs; c++)
            {
                double sum = bias[c];
                double magnitude = Math.Abs(bias[c]);
                for (int p = 0; p < inputs; p++)
                {
                    sum += (double)x[(r * inputs) + p] * w[(p * outputs) + c];
                    magnitude += Math.Abs((double)x[(r * inputs) + p] * w[(p * outputs) + c]);
                }

                expected[(r * outputs) + c] = Math.Max(sum, 0);
                bound[(r * outputs) + c] = 2 * Eps * (inputs + 3) * magnitude;
                expected[(batch * outputs) + c] += Math.Max(sum, 0);
                bound[(batch * outputs) + c] += (2 * Eps * (inputs + 3) * magnitude) + (Eps * (batch + 1) * Math.Abs(sum));
            }
        }

        AssertWithin(actual, expected, bound, what);
    }

    private static float[] Stored(Random random, int rows, int columns, int ld, float padding, bool nan)
    {
        // Every stored row is ld long (the last one too), followed by a 3-element tail.
        var data = new float[(rows * ld) + 3];
        data.AsSpan().Fill(padding);
        for (int r = 0; r < rows; r++)
        {
            for (int col = 0; col < columns; col++)
            {
                data[(r * ld) + col] = nan ? float.NaN : NextValue(random);
            }
        }

        return data;
    }

    private void CheckBinary(int length, string what, Action<DeviceKernels, DeviceBuffer, DeviceBuffer, DeviceBuffer> kernel, Func<float, float, double> reference) => WithProvider(1, provider =>
    {
        var random = new Random(600 + length);
        float[] x = Values(random, length);
        float[] y = Values(random, length);
        double[] expected = [.. x.Select((v, i) => reference(v, y[i]))];
        double[] bound = [.. expected.Select(static e => Eps * Math.Abs(e))];
        double[] square = [.. x.Select(v => reference(v, v))];
        double[] squareBound = [.. square.Select(static e => Eps * Math.Abs(e))];
        using DeviceBuffer xb = Upload(provider, x);
        using DeviceBuffer yb = Upload(provider, y);
        using DeviceBuffer rb = Upload(provider, [.. Enumerable.Repeat(Sentinel, length)]);
        kernel(provider.Kernels, xb, yb, rb);
        AssertWithin(Download(provider, rb), expected, bound, what);
        AssertBits(x, Download(provider, xb), $"{what}: x");
        AssertBits(y, Download(provider, yb), $"{what}: y");

        kernel(provider.Kernels, xb, yb, xb);
        AssertWithin(Download(provider, xb), expected, bound, $"{what} into x");
        provider.CopyFromHost<float>(x, xb);
        kernel(provider.Kernels, xb, yb, yb);
        AssertWithin(Download(provider, yb), expected, bound, $"{what} into y");
        kernel(provider.Kernels, xb, xb, xb);
        AssertWithin(Download(provider, xb), square, squareBound, $"{what} of x with itself, into x");
    });

    private static void CheckSoftmax(DeviceProvider provider, float[] logits, int[] labels, int rows, int classes, bool alias)
    {
        int count = rows * classes;
        using DeviceBuffer xb = Upload(provider, [.. logits, Sentinel]);
        using DeviceBuffer lb = Upload(provider, labels);
        using DeviceBuffer pb = Upload(provider, [.. Enumerable.Repeat(float.NaN, count), Sentinel]);
        using DeviceBuffer sb = Upload(provider, [.. Enumerable.Repeat(float.NaN, rows), Sentinel]);
        DeviceBuffer output = alias ? xb : pb;
        provider.Kernels.SoftmaxCrossEntropy(xb, lb, rows, classes, output, sb);
        float[] probabilities = Download(provider, output);
        float[] losses = Download(provider, sb);
        string what = $"softmax cross-entropy {rows}×{classes}{(alias ? " over the logits" : string.Empty)}";
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = logits.AsSpan(r * classes, classes);
            double max = double.NegativeInfinity;
            foreach (float v in row)
            {
                max = Math.Max(max, v);
            }

            // Shifted by the row maximum, as the contract computes it (a reference without the shift loses ln 2 next to 3e38).
            double sum = 0;
            foreach (float v in row)
            {
                sum += Math.Exp(v - max);
            }

            double total = 0;
            for (int c = 0; c < classes; c++)
            {
                float p = probabilities[(r * classes) + c];
                double expected = Math.Exp(row[c] - max) / sum;
                total += p;
                if (!(Math.Abs(p - expected) <= (1e-6 * expected) + 1e-7))
                {
                    Assert.Fail($"{what}: probability [{r},{c}] is {p}, expected {expected}.");
                }
            }

            Assert.True(Math.Abs(total - 1) <= 1e-5, $"{what}: row {r}'s probabilities sum to {total}.");
            double loss = Math.Log(sum) - (row[labels[r]] - max);
            Assert.True(
                Math.Abs(losses[r] - loss) <= 1e-5 * (1 + Math.Abs(loss)),
                $"{what}: loss of row {r} (label {labels[r]}) is {losses[r]}, expected {loss}.");
        }

        AssertBits([Sentinel], losses[rows..], $"{what}: the losses buffer's tail");
        AssertBits([Sentinel], probabilities[count..], $"{what}: the probabilities buffer's tail");
        if (!alias)
        {
            AssertBits([.. logits, Sentinel], Download(provider, xb), $"{what}: the logits");
        }
    }

    protected static DeviceBuffer Upload<T>(DeviceProvider provider, T[] values, Device? device = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(values);
        DeviceBuffer buffer = provider.Allocate<T>(device ?? provider.Devices[0], values.Length);
        provider.CopyFromHost<T>(values, buffer);
        return buffer;
    }

    protected static float[] Download(DeviceProvider provider, DeviceBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(buffer);
        var values = new float[buffer.Length];
        provider.CopyToHost<float>(buffer, 0, values);
        return values;
    }

    /// <summary>Finite values in [−1, 1), from a seeded generator.</summary>
    protected static float[] Values(Random random, int length)
    {
        ArgumentNullException.ThrowIfNull(random);
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = NextValue(random);
        }

        return values;
    }

    /// <summary>Random values with negatives, ±0, NaN, ±∞ and tiny and huge magnitudes mixed in.</summary>
    private static float[] Specials(Random random, int length)
    {
        float[] specials = [-3f, -0f, 0f, 2.5f, float.NaN, float.NegativeInfinity, float.PositiveInfinity, -1e-30f, 1e30f, 1e-30f];
        float[] values = Values(random, length);
        for (int i = 0; i < length; i += 2)
        {
            values[i] = specials[(i / 2) % specials.Length];
        }

        return values;
    }

    private static float NextValue(Random random) => (float)((random.NextDouble() * 2) - 1);

    private static void AssertWithin(float[] actual, double[] expected, double[] bound, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            if (double.IsNaN(expected[i]))
            {
                if (!float.IsNaN(actual[i]))
                {
                    Assert.Fail($"{what}: element {i} is {actual[i]}, expected NaN.");
                }
            }
            else if (double.IsInfinity(expected[i]))
            {
                if (actual[i] != expected[i])
                {
                    Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]}.");
                }
            }
            else if (!(Math.Abs(actual[i] - expected[i]) <= bound[i]))
            {
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} ± {bound[i]}.");
            }
        }
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

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "MA0051:Method is too long", Justification = "One line per rejected input reads as a table.")]
    private static Dictionary<string, BadInput> BuildBadInputs()
    {
        var cases = new Dictionary<string, BadInput>(StringComparer.Ordinal);
        Type range = typeof(ArgumentOutOfRangeException);
        Type argument = typeof(ArgumentException);
        Type nulls = typeof(ArgumentNullException);
        Type disposed = typeof(ObjectDisposedException);
        const MatrixOperation N = MatrixOperation.None;
        const MatrixOperation T = MatrixOperation.Transpose;
        void Add(string name, Type exception, string? paramName, Action<DeviceKernels, Operands> call, string? messagePart = null) =>
            cases.Add(name, new BadInput(exception, paramName, call, messagePart));

        // GEMM on 4×4 matrices in 16-element buffers.
        Add("Gemm transA undefined", range, "transA", static (k, o) => k.Gemm((MatrixOperation)2, N, 4, 4, 4, 1, o.A, 4, o.B, 4, 0, o.C, 4));
        Add("Gemm transB undefined", range, "transB", static (k, o) => k.Gemm(N, (MatrixOperation)(-1), 4, 4, 4, 1, o.A, 4, o.B, 4, 0, o.C, 4));
        Add("Gemm m negative", range, "m", static (k, o) => k.Gemm(N, N, -1, 4, 4, 1, o.A, 4, o.B, 4, 0, o.C, 4));
        Add("Gemm n negative", range, "n", static (k, o) => k.Gemm(N, N, 4, -1, 4, 1, o.A, 4, o.B, 4, 0, o.C, 4));
        Add("Gemm k negative", range, "k", static (k, o) => k.Gemm(N, N, 4, 4, -1, 1, o.A, 4, o.B, 4, 0, o.C, 4));
        Add("Gemm k negative (dense)", range, "k", static (k, o) => k.Gemm(N, N, 4, 4, -3, 1, o.A, o.B, 0, o.C));
        Add("Gemm lda below k", range, "lda", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.A, 3, o.B, 4, 0, o.C, 4));
        Add("Gemm lda below m for transposed A", range, "lda", static (k, o) => k.Gemm(T, N, 5, 3, 3, 1, o.A, 4, o.B, 3, 0, o.C, 3));
        Add("Gemm lda zero for k 0", range, "lda", static (k, o) => k.Gemm(N, N, 4, 4, 0, 1, o.A, 0, o.B, 4, 0, o.C, 4));
        Add("Gemm ldb below n", range, "ldb", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.A, 4, o.B, 3, 0, o.C, 4));
        Add("Gemm ldb below k for transposed B", range, "ldb", static (k, o) => k.Gemm(N, T, 4, 4, 4, 1, o.A, 4, o.B, 3, 0, o.C, 4));
        Add("Gemm ldc below n", range, "ldc", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.A, 4, o.B, 4, 0, o.C, 3));
        Add("Gemm a too short", argument, "a", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.Short, 4, o.B, 4, 0, o.C, 4));
        Add("Gemm a too short (dense)", argument, "a", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.Short, o.B, 0, o.C));
        Add("Gemm a too short for its lda", argument, "a", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.A, 5, o.B, 4, 0, o.C, 4));
        Add("Gemm b too short", argument, "b", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.A, 4, o.Short, 4, 0, o.C, 4));
        Add("Gemm b too short transposed", argument, "b", static (k, o) => k.Gemm(N, T, 4, 5, 4, 1, o.A, 4, o.B, 4, 0, o.C, 5));
        Add("Gemm c too short", argument, "c", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.A, 4, o.B, 4, 0, o.Short, 4));
        Add("Gemm c too short for its ldc", argument, "c", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.A, 4, o.B, 4, 0, o.C, 5));
        Add("Gemm a Int32", argument, "a", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.Ints, 4, o.B, 4, 0, o.C, 4));
        Add("Gemm b Double", argument, "b", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.A, 4, o.Doubles, 4, 0, o.C, 4));
        Add("Gemm c Double", argument, "c", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.A, 4, o.B, 4, 0, o.Doubles, 4));
        Add("Gemm b on another device", argument, "b", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.A, 4, o.Remote, 4, 0, o.C, 4));
        Add("Gemm c on another device", argument, "c", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.A, 4, o.B, 4, 0, o.Remote, 4));
        Add("Gemm a on another device than b", argument, "b", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.Remote, 4, o.B, 4, 0, o.C, 4));
        Add("Gemm a of another provider", argument, "a", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.Foreign, 4, o.B, 4, 0, o.C, 4), "another provider");
        Add("Gemm c of another provider", argument, "c", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.A, 4, o.B, 4, 0, o.Foreign, 4), "another provider");
        Add("Gemm b disposed", disposed, null, static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.A, 4, o.Disposed, 4, 0, o.C, 4));
        Add("Gemm a null", nulls, "a", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, null!, 4, o.B, 4, 0, o.C, 4));
        Add("Gemm c is a", argument, "c", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.A, 4, o.B, 4, 0, o.A, 4));
        Add("Gemm c is b", argument, "c", static (k, o) => k.Gemm(N, N, 4, 4, 4, 1, o.A, 4, o.B, 4, 1, o.B, 4));

        Add("Axpy y shorter", argument, "y", static (k, o) => k.Axpy(2, o.A, o.Short));
        Add("Axpy y longer", argument, "y", static (k, o) => k.Axpy(2, o.A, o.Long));
        Add("Axpy x Int32", argument, "x", static (k, o) => k.Axpy(2, o.Ints, o.A));
        Add("Axpy y on another device", argument, "y", static (k, o) => k.Axpy(2, o.A, o.Remote));
        Add("Axpy x of another provider", argument, "x", static (k, o) => k.Axpy(2, o.Foreign, o.A));
        Add("Axpy y disposed", disposed, null, static (k, o) => k.Axpy(2, o.A, o.Disposed));
        Add("Axpy y null", nulls, "y", static (k, o) => k.Axpy(2, o.A, null!));

        Add("Scale x Int32", argument, "x", static (k, o) => k.Scale(2, o.Ints));
        Add("Scale x of another provider", argument, "x", static (k, o) => k.Scale(2, o.Foreign));
        Add("Scale x disposed", disposed, null, static (k, o) => k.Scale(2, o.Disposed));
        Add("Divide x Int32", argument, "x", static (k, o) => k.Divide(o.Ints, 2));
        Add("Divide x of another provider", argument, "x", static (k, o) => k.Divide(o.Foreign, 2));
        Add("CanonicalizeNaN x Int32", argument, "x", static (k, o) => k.CanonicalizeNaN(o.Ints));
        Add("CanonicalizeNaN x Double", argument, "x", static (k, o) => k.CanonicalizeNaN(o.Doubles));
        Add("CanonicalizeNaN x of another provider", argument, "x", static (k, o) => k.CanonicalizeNaN(o.Foreign));
        Add("ReproducibleFindOutsideWindow values Double", argument, "values", static (k, o) => k.ReproducibleFindOutsideWindow(o.Doubles));

        Add("Fill x Double", argument, "x", static (k, o) => k.Fill(o.Doubles, 1));
        Add("Fill x of another provider", argument, "x", static (k, o) => k.Fill(o.Foreign, 1));
        Add("Fill x disposed", disposed, null, static (k, o) => k.Fill(o.Disposed, 1));


        Add("Add y shorter", argument, "y", static (k, o) => k.Add(o.A, o.Short, o.C));
        Add("Add result longer", argument, "result", static (k, o) => k.Add(o.A, o.B, o.Long));
        Add("Add result on another device", argument, "result", static (k, o) => k.Add(o.A, o.B, o.Remote));
        Add("Add x Int32", argument, "x", static (k, o) => k.Add(o.Ints, o.B, o.C));
        Add("Add y of another provider", argument, "y", static (k, o) => k.Add(o.A, o.Foreign, o.C));
        Add("Add result disposed", disposed, null, static (k, o) => k.Add(o.A, o.B, o.Disposed));

        Add("Multiply y longer", argument, "y", static (k, o) => k.Multiply(o.A, o.Long, o.C));
        Add("Multiply result shorter", argument, "result", static (k, o) => k.Multiply(o.A, o.B, o.Short));
        Add("Multiply x on another device than y", argument, "y", static (k, o) => k.Multiply(o.Remote, o.B, o.C));
        Add("Multiply result Int32", argument, "result", static (k, o) => k.Multiply(o.A, o.B, o.Ints));

        Add("Relu result shorter", argument, "result", static (k, o) => k.Relu(o.A, o.Short));
        Add("Relu result on another device", argument, "result", static (k, o) => k.Relu(o.A, o.Remote));
        Add("Relu x Double", argument, "x", static (k, o) => k.Relu(o.Doubles, o.A));

        Add("ReluBackward output shorter", argument, "output", static (k, o) => k.ReluBackward(o.A, o.Short, o.C));
        Add("ReluBackward gradInput on another device", argument, "gradInput", static (k, o) => k.ReluBackward(o.A, o.B, o.Remote));
        Add("ReluBackward gradOutput Int32", argument, "gradOutput", static (k, o) => k.ReluBackward(o.Ints, o.B, o.C));
        Add("ReluBackward gradInput of another provider", argument, "gradInput", static (k, o) => k.ReluBackward(o.A, o.B, o.Foreign));

        Add("AddBias rows negative", range, "rows", static (k, o) => k.AddBias(o.A, -1, 4, o.Bias));
        Add("AddBias columns negative", range, "columns", static (k, o) => k.AddBias(o.A, 4, -4, o.Bias));
        Add("AddBias matrix too short", argument, "matrix", static (k, o) => k.AddBias(o.Short, 4, 4, o.Bias));
        Add("AddBias bias too short", argument, "bias", static (k, o) => k.AddBias(o.A, 3, 5, o.Bias));
        Add("AddBias bias on another device", argument, "bias", static (k, o) => k.AddBias(o.A, 4, 4, o.RemoteLosses));
        Add("AddBias matrix Int32", argument, "matrix", static (k, o) => k.AddBias(o.Ints, 4, 4, o.Bias));

        Add("ColumnSums rows negative", range, "rows", static (k, o) => k.ColumnSums(o.A, -2, 4, o.Bias));
        Add("ColumnSums columns negative", range, "columns", static (k, o) => k.ColumnSums(o.A, 4, -1, o.Bias));
        Add("ColumnSums matrix too short", argument, "matrix", static (k, o) => k.ColumnSums(o.Short, 4, 4, o.Bias));
        Add("ColumnSums sums too short", argument, "sums", static (k, o) => k.ColumnSums(o.A, 4, 4, o.ShortLosses));
        Add("ColumnSums sums is the matrix", argument, "sums", static (k, o) => k.ColumnSums(o.A, 4, 4, o.A));
        Add("ColumnSums sums on another device", argument, "sums", static (k, o) => k.ColumnSums(o.A, 4, 4, o.RemoteLosses));

        Add("SoftmaxCrossEntropy rows negative", range, "rows", static (k, o) => k.SoftmaxCrossEntropy(o.A, o.Labels, -1, 4, o.B, o.Losses));
        Add("SoftmaxCrossEntropy classes negative", range, "classes", static (k, o) => k.SoftmaxCrossEntropy(o.A, o.Labels, 4, -4, o.B, o.Losses));
        Add("SoftmaxCrossEntropy classes zero", range, "classes", static (k, o) => k.SoftmaxCrossEntropy(o.A, o.Labels, 4, 0, o.B, o.Losses));
        Add("SoftmaxCrossEntropy logits too short", argument, "logits", static (k, o) => k.SoftmaxCrossEntropy(o.Short, o.Labels, 4, 4, o.B, o.Losses));
        Add("SoftmaxCrossEntropy labels Single", argument, "labels", static (k, o) => k.SoftmaxCrossEntropy(o.A, o.Losses, 4, 4, o.B, o.C));
        Add("SoftmaxCrossEntropy labels too short", argument, "labels", static (k, o) => k.SoftmaxCrossEntropy(o.A, o.Labels, 5, 3, o.B, o.Bias));
        Add("SoftmaxCrossEntropy labels on another device", argument, "labels", static (k, o) => k.SoftmaxCrossEntropy(o.A, o.RemoteLabels, 4, 4, o.B, o.Losses));
        Add("SoftmaxCrossEntropy probabilities too short", argument, "probabilities", static (k, o) => k.SoftmaxCrossEntropy(o.A, o.Labels, 4, 4, o.Short, o.Losses));
        Add("SoftmaxCrossEntropy probabilities of another provider", argument, "probabilities", static (k, o) => k.SoftmaxCrossEntropy(o.A, o.Labels, 4, 4, o.Foreign, o.Losses));
        Add("SoftmaxCrossEntropy losses too short", argument, "losses", static (k, o) => k.SoftmaxCrossEntropy(o.A, o.Labels, 4, 4, o.B, o.ShortLosses));
        Add("SoftmaxCrossEntropy losses on another device", argument, "losses", static (k, o) => k.SoftmaxCrossEntropy(o.A, o.Labels, 4, 4, o.B, o.RemoteLosses));
        Add("SoftmaxCrossEntropy logits disposed", disposed, null, static (k, o) => k.SoftmaxCrossEntropy(o.Disposed, o.Labels, 4, 4, o.B, o.Losses));
        Add("SoftmaxCrossEntropy label equal to classes", range, "labels", static (k, o) => k.SoftmaxCrossEntropy(o.A, o.BadLabels, 4, 4, o.B, o.Losses), "labels[3]");
        Add("SoftmaxCrossEntropy label negative", range, "labels", static (k, o) => k.SoftmaxCrossEntropy(o.A, o.NegativeLabels, 4, 4, o.B, o.Losses), "labels[3]");
        Add("SoftmaxCrossEntropy label out of range in place", range, "labels", static (k, o) => k.SoftmaxCrossEntropy(o.A, o.BadLabels, 4, 4, o.A, o.Losses), "labels[3]");
        Add("SoftmaxCrossEntropy label beyond fewer classes", range, "labels", static (k, o) => k.SoftmaxCrossEntropy(o.A, o.Labels, 4, 3, o.B, o.Losses), "labels[3]");

        Add("SoftmaxCrossEntropyBackward classes zero", range, "classes", static (k, o) => k.SoftmaxCrossEntropyBackward(o.A, o.Labels, 4, 0, 1, o.B));
        Add("SoftmaxCrossEntropyBackward rows negative", range, "rows", static (k, o) => k.SoftmaxCrossEntropyBackward(o.A, o.Labels, -1, 4, 1, o.B));
        Add("SoftmaxCrossEntropyBackward probabilities too short", argument, "probabilities", static (k, o) => k.SoftmaxCrossEntropyBackward(o.Short, o.Labels, 4, 4, 1, o.B));
        Add("SoftmaxCrossEntropyBackward labels Double", argument, "labels", static (k, o) => k.SoftmaxCrossEntropyBackward(o.A, o.Doubles, 4, 4, 1, o.B));
        Add("SoftmaxCrossEntropyBackward gradLogits too short", argument, "gradLogits", static (k, o) => k.SoftmaxCrossEntropyBackward(o.A, o.Labels, 4, 4, 1, o.Short));
        Add("SoftmaxCrossEntropyBackward gradLogits on another device", argument, "gradLogits", static (k, o) => k.SoftmaxCrossEntropyBackward(o.A, o.Labels, 4, 4, 1, o.Remote));
        Add("SoftmaxCrossEntropyBackward label equal to classes", range, "labels", static (k, o) => k.SoftmaxCrossEntropyBackward(o.A, o.BadLabels, 4, 4, 0.25f, o.B), "labels[3]");
        Add("SoftmaxCrossEntropyBackward label negative in place", range, "labels", static (k, o) => k.SoftmaxCrossEntropyBackward(o.A, o.NegativeLabels, 4, 4, 0.25f, o.A), "labels[3]");

        void AddAdam(string name, AdamStep bad) =>
            Add($"AdamUpdate {name}", range, "settings", (k, o) => k.AdamUpdate(o.A, o.B, o.C, o.D, bad));
        AddAdam("learning rate NaN", new AdamStep(float.NaN, 0.9f, 0.999f, 1e-8f, 1));
        AddAdam("learning rate negative", new AdamStep(-1e-3f, 0.9f, 0.999f, 1e-8f, 1));
        AddAdam("learning rate infinite", new AdamStep(float.PositiveInfinity, 0.9f, 0.999f, 1e-8f, 1));
        AddAdam("beta1 one", new AdamStep(1e-3f, 1f, 0.999f, 1e-8f, 1));
        AddAdam("beta1 negative", new AdamStep(1e-3f, -0.1f, 0.999f, 1e-8f, 1));
        AddAdam("beta1 NaN", new AdamStep(1e-3f, float.NaN, 0.999f, 1e-8f, 1));
        AddAdam("beta2 one", new AdamStep(1e-3f, 0.9f, 1f, 1e-8f, 1));
        AddAdam("beta2 NaN", new AdamStep(1e-3f, 0.9f, float.NaN, 1e-8f, 1));
        AddAdam("epsilon zero", new AdamStep(1e-3f, 0.9f, 0.999f, 0f, 1));
        AddAdam("epsilon negative", new AdamStep(1e-3f, 0.9f, 0.999f, -1e-8f, 1));
        AddAdam("epsilon NaN", new AdamStep(1e-3f, 0.9f, 0.999f, float.NaN, 1));
        AddAdam("epsilon infinite", new AdamStep(1e-3f, 0.9f, 0.999f, float.PositiveInfinity, 1));
        AddAdam("step zero", new AdamStep(1e-3f, 0.9f, 0.999f, 1e-8f, 0));
        AddAdam("step negative", new AdamStep(1e-3f, 0.9f, 0.999f, 1e-8f, -3));
        AdamStep good = AdamStep.Default(1e-3f, 1);
        Add("AdamUpdate gradients shorter", argument, "gradients", (k, o) => k.AdamUpdate(o.A, o.Short, o.C, o.D, good));
        Add("AdamUpdate firstMoment on another device", argument, "firstMoment", (k, o) => k.AdamUpdate(o.A, o.B, o.Remote, o.D, good));
        Add("AdamUpdate secondMoment Int32", argument, "secondMoment", (k, o) => k.AdamUpdate(o.A, o.B, o.C, o.Ints, good));
        Add("AdamUpdate parameters of another provider", argument, "parameters", (k, o) => k.AdamUpdate(o.Foreign, o.B, o.C, o.D, good));
        Add("AdamUpdate moments are one buffer", argument, "parameters", (k, o) => k.AdamUpdate(o.A, o.B, o.C, o.C, good));
        Add("AdamUpdate parameters are the gradients", argument, "parameters", (k, o) => k.AdamUpdate(o.A, o.A, o.C, o.D, good));
        Add("AdamUpdate gradients disposed", disposed, null, (k, o) => k.AdamUpdate(o.A, o.Disposed, o.C, o.D, good));

        Add("SgdUpdate learning rate negative", range, "learningRate", static (k, o) => k.SgdUpdate(o.A, o.B, o.C, -0.1f, 0.9f));
        Add("SgdUpdate learning rate NaN", range, "learningRate", static (k, o) => k.SgdUpdate(o.A, o.B, o.C, float.NaN, 0.9f));
        Add("SgdUpdate learning rate infinite", range, "learningRate", static (k, o) => k.SgdUpdate(o.A, o.B, null, float.PositiveInfinity, 0f));
        Add("SgdUpdate momentum one", range, "momentum", static (k, o) => k.SgdUpdate(o.A, o.B, o.C, 0.1f, 1f));
        Add("SgdUpdate momentum negative", range, "momentum", static (k, o) => k.SgdUpdate(o.A, o.B, o.C, 0.1f, -0.5f));
        Add("SgdUpdate momentum NaN", range, "momentum", static (k, o) => k.SgdUpdate(o.A, o.B, o.C, 0.1f, float.NaN));
        Add("SgdUpdate momentum without velocity", argument, "velocity", static (k, o) => k.SgdUpdate(o.A, o.B, null, 0.1f, 0.9f));
        Add("SgdUpdate velocity shorter", argument, "velocity", static (k, o) => k.SgdUpdate(o.A, o.B, o.Short, 0.1f, 0.9f));
        Add("SgdUpdate velocity on another device", argument, "velocity", static (k, o) => k.SgdUpdate(o.A, o.B, o.Remote, 0.1f, 0.9f));
        Add("SgdUpdate gradients longer", argument, "gradients", static (k, o) => k.SgdUpdate(o.A, o.Long, o.C, 0.1f, 0.9f));
        Add("SgdUpdate gradients Int32", argument, "gradients", static (k, o) => k.SgdUpdate(o.A, o.Ints, null, 0.1f, 0f));
        Add("SgdUpdate parameters are the gradients", argument, "parameters", static (k, o) => k.SgdUpdate(o.A, o.A, null, 0.1f, 0f));
        Add("SgdUpdate velocity is the parameters", argument, "parameters", static (k, o) => k.SgdUpdate(o.A, o.B, o.A, 0.1f, 0.9f));
        Add("SgdUpdate velocity is the gradients without momentum", argument, "parameters", static (k, o) => k.SgdUpdate(o.A, o.B, o.B, 0.1f, 0f));
        Add("SgdUpdate parameters disposed", disposed, null, static (k, o) => k.SgdUpdate(o.Disposed, o.B, o.C, 0.1f, 0.9f));
        return cases;
    }

    private sealed record BadInput(Type Exception, string? ParamName, Action<DeviceKernels, Operands> Call, string? MessagePart);

    [StructLayout(LayoutKind.Auto)]
    private readonly record struct GemmCase(MatrixOperation TransA, MatrixOperation TransB, int M, int N, int K, float Alpha, float Beta, int Pad, bool NanC, int Seed);

    /// <summary>The buffers the validation cases pass: 4×4 float matrices on device 0, and the wrong ones.</summary>
    private sealed class Operands : IDisposable
    {
        private readonly DeviceProvider _other;
        private readonly List<(DeviceProvider Owner, DeviceBuffer Buffer)> _buffers = [];

        public Operands(DeviceProvider provider, DeviceProvider other)
        {
            _other = other;
            Device local = provider.Devices[0];
            Device remote = provider.Devices[1];
            A = Add("A", provider, Floats(16, 1), local);
            B = Add("B", provider, Floats(16, 2), local);
            C = Add("C", provider, Floats(16, 3), local);
            D = Add("D", provider, [.. Floats(16, 4).Select(static v => Math.Abs(v))], local);
            Short = Add("Short", provider, Floats(15, 5), local);
            Long = Add("Long", provider, Floats(17, 6), local);
            Remote = Add("Remote", provider, Floats(16, 7), remote);
            Ints = Add("Ints", provider, Enumerable.Range(100, 16).ToArray(), local);
            Doubles = Add("Doubles", provider, Enumerable.Range(0, 16).Select(static i => i * 0.25).ToArray(), local);
            Labels = Add("Labels", provider, new[] { 0, 1, 2, 3 }, local);
            BadLabels = Add("BadLabels", provider, new[] { 0, 1, 2, 4 }, local);
            NegativeLabels = Add("NegativeLabels", provider, new[] { 3, 2, 1, -1 }, local);
            RemoteLabels = Add("RemoteLabels", provider, new[] { 0, 1, 2, 3 }, remote);
            Losses = Add("Losses", provider, Floats(4, 8), local);
            RemoteLosses = Add("RemoteLosses", provider, Floats(4, 9), remote);
            ShortLosses = Add("ShortLosses", provider, Floats(3, 10), local);
            Bias = Add("Bias", provider, Floats(4, 11), local);
            Foreign = Add("Foreign", other, Floats(16, 12), other.Devices[0]);
            Disposed = provider.Allocate<float>(local, 16);
            Disposed.Dispose();
        }

        public List<string> Names { get; } = [];

        public DeviceBuffer A { get; }

        public DeviceBuffer B { get; }

        public DeviceBuffer C { get; }

        public DeviceBuffer D { get; }

        public DeviceBuffer Short { get; }

        public DeviceBuffer Long { get; }

        public DeviceBuffer Remote { get; }

        public DeviceBuffer Ints { get; }

        public DeviceBuffer Doubles { get; }

        public DeviceBuffer Labels { get; }

        public DeviceBuffer BadLabels { get; }

        public DeviceBuffer NegativeLabels { get; }

        public DeviceBuffer RemoteLabels { get; }

        public DeviceBuffer Losses { get; }

        public DeviceBuffer RemoteLosses { get; }

        public DeviceBuffer ShortLosses { get; }

        public DeviceBuffer Bias { get; }

        public DeviceBuffer Foreign { get; }

        public DeviceBuffer Disposed { get; }

        public List<byte[]> Snapshot() => [.. _buffers.Select(static b => Read(b.Owner, b.Buffer))];

        public void Dispose()
        {
            foreach ((_, DeviceBuffer buffer) in _buffers)
            {
                buffer.Dispose();
            }

            _other.Dispose();
        }

        private static float[] Floats(int length, int seed) => [.. Enumerable.Range(0, length).Select(i => (seed * 10) + (i * 0.5f) - 3)];

        private static byte[] Read(DeviceProvider owner, DeviceBuffer buffer)
        {
            var bytes = new byte[buffer.SizeInBytes];
            if (buffer.ElementType == typeof(float))
            {
                owner.CopyToHost(buffer, 0, MemoryMarshal.Cast<byte, float>(bytes.AsSpan()));
            }
            else if (buffer.ElementType == typeof(int))
            {
                owner.CopyToHost(buffer, 0, MemoryMarshal.Cast<byte, int>(bytes.AsSpan()));
            }
            else
            {
                owner.CopyToHost(buffer, 0, MemoryMarshal.Cast<byte, double>(bytes.AsSpan()));
            }

            return bytes;
        }

        private DeviceBuffer Add<T>(string name, DeviceProvider owner, T[] values, Device device)
            where T : unmanaged
        {
            DeviceBuffer buffer = Upload(owner, values, device);
            _buffers.Add((owner, buffer));
            Names.Add(name);
            return buffer;
        }
    }

    [Fact]
    public void Convert_SingleToHalfDividedOnce_AndBackExactly() => WithProvider(1, provider =>
    {
        Device device = provider.Devices[0];
        float[] values = [0f, 1f, -3f, 1e-3f, 65504f * 2, 0.1f, 12345.678f, float.NaN];
        using DeviceArray<float> singles = DeviceArray.FromHost(device, new HostArray<float>(values, values.Length));
        using DeviceArray<Half> halves = DeviceArray.Allocate<Half>(device, values.Length);
        using DeviceArray<float> back = DeviceArray.Allocate<float>(device, values.Length);
        provider.Kernels.Convert(singles.Buffer, halves.Buffer, divisor: 2f);
        provider.Kernels.Convert(halves.Buffer, back.Buffer);

        // One division in Single, one rounding to Half (ties to even), then an exact widening.
        float[] expected = [.. values.Select(v => (float)(Half)(v / 2f))];
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), back.ToArray().Select(BitConverter.SingleToInt32Bits));

        Assert.Throws<ArgumentOutOfRangeException>(() => provider.Kernels.Convert(singles.Buffer, halves.Buffer, divisor: 0f));
        Assert.Throws<ArgumentException>(() => provider.Kernels.Convert(halves.Buffer, back.Buffer, divisor: 2f));
        Assert.Throws<ArgumentException>(() => provider.Kernels.Convert(singles.Buffer, back.Buffer));
    });
}
