using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Artifex.Cpu.Kernels;

namespace Artifex.Cpu;

/// <summary>
/// The kernel contract on emulated CPU devices: the managed GEMM, and TensorPrimitives or <see cref="Vector{T}"/> loops
/// for the rest. Kernels run synchronously on the calling thread (inside an SPMD region, the device's worker).
/// </summary>
/// <remarks>
/// Only the GEMM and softmax use fused multiply-add or vectorized transcendental functions, so they may differ in the last
/// bits between SIMD widths; the elementwise and optimizer kernels round identically at every width. Every result is
/// independent of <see cref="Threads"/>.
/// </remarks>
public sealed unsafe partial class CpuKernels : DeviceKernels
{
    /// <summary>Creates the kernels of a provider whose buffers are <see cref="CpuBuffer"/>s (<see cref="CpuMemory"/>).</summary>
    /// <param name="provider">The provider the kernels belong to.</param>
    /// <param name="threads">How many threads one GEMM may use, 1 or more.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is below 1.</exception>
    public CpuKernels(DeviceProvider provider, int threads)
        : base(provider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
    }

    /// <summary>Gets or sets how many threads one GEMM may use.</summary>
    public int Threads { get; set; }

    /// <summary>Gets or sets the GEMM micro-kernel (tests pin narrower ones).</summary>
    internal GemmKernelKind GemmKernel { get; set; } = CpuGemm.BestKernel;

    /// <inheritdoc/>
    protected override void GemmCore(
        MatrixOperation transA,
        MatrixOperation transB,
        int m,
        int n,
        int k,
        float alpha,
        DeviceBuffer a,
        int lda,
        DeviceBuffer b,
        int ldb,
        float beta,
        DeviceBuffer c,
        int ldc)
    {
        var operands = new GemmOperands(transA, transB, m, n, k, alpha, Pointer(a), lda, Pointer(b), ldb, beta, Pointer(c), ldc);
        CpuGemm.Run(operands, GemmKernel, Threads);
    }

    /// <inheritdoc/>
    protected override void AxpyCore(float alpha, DeviceBuffer x, DeviceBuffer y)
    {
        Span<float> accumulator = Span(y);
        TensorPrimitives.MultiplyAdd(Span(x), alpha, accumulator, accumulator);
    }

    /// <inheritdoc/>
    protected override void ScaleCore(DeviceBuffer x, double factor, bool divide) => CpuMemory.Scale(x, factor, divide);

    /// <inheritdoc/>
    protected override void FillCore(DeviceBuffer x, float value) => Span(x).Fill(value);

    /// <inheritdoc/>
    protected override void AddCore(DeviceBuffer x, DeviceBuffer y, DeviceBuffer result) => TensorPrimitives.Add(Span(x), Span(y), Span(result));

    /// <inheritdoc/>
    protected override void MultiplyCore(DeviceBuffer x, DeviceBuffer y, DeviceBuffer result) => TensorPrimitives.Multiply(Span(x), Span(y), Span(result));

    /// <inheritdoc/>
    protected override void ConvertCore(DeviceBuffer source, DeviceBuffer destination, float divisor)
    {
        if (source.ElementType == typeof(Half))
        {
            TensorPrimitives.ConvertToSingle(CpuProvider.GetSpan<Half>(source), Span(destination));
            return;
        }

        ReadOnlySpan<float> values = Span(source);
        Span<Half> halves = CpuProvider.GetSpan<Half>(destination);
        if (divisor == 1f)
        {
            TensorPrimitives.ConvertToHalf(values, halves);
            return;
        }

        // Divided through a small stack buffer: one pass over memory, no temporary array.
        Span<float> scaled = stackalloc float[1024];
        for (int start = 0; start < values.Length; start += scaled.Length)
        {
            int count = Math.Min(scaled.Length, values.Length - start);
            TensorPrimitives.Divide(values.Slice(start, count), divisor, scaled[..count]);
            TensorPrimitives.ConvertToHalf(scaled[..count], halves.Slice(start, count));
        }
    }

    /// <inheritdoc/>
    protected override void ReluCore(DeviceBuffer x, DeviceBuffer result) => TensorPrimitives.Max(Span(x), 0f, Span(result));

    /// <inheritdoc/>
    protected override void ReluBackwardCore(DeviceBuffer gradOutput, DeviceBuffer output, DeviceBuffer gradInput)
    {
        ReadOnlySpan<float> g = Span(gradOutput);
        ReadOnlySpan<float> y = Span(output);
        Span<float> result = Span(gradInput);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            ReadOnlySpan<Vector<float>> gv = MemoryMarshal.Cast<float, Vector<float>>(g);
            ReadOnlySpan<Vector<float>> yv = MemoryMarshal.Cast<float, Vector<float>>(y);
            Span<Vector<float>> rv = MemoryMarshal.Cast<float, Vector<float>>(result);
            for (int v = 0; v < rv.Length; v++)
            {
                rv[v] = Vector.ConditionalSelect(Vector.GreaterThan(yv[v], Vector<float>.Zero), gv[v], Vector<float>.Zero);
            }

            i = rv.Length * Vector<float>.Count;
        }

        for (; i < result.Length; i++)
        {
            result[i] = y[i] > 0 ? g[i] : 0f;
        }
    }

    /// <inheritdoc/>
    protected override void AddBiasCore(DeviceBuffer matrix, int rows, int columns, DeviceBuffer bias)
    {
        Span<float> values = Span(matrix);
        ReadOnlySpan<float> row = Span(bias)[..columns];
        for (int r = 0; r < rows; r++)
        {
            Span<float> target = values.Slice(r * columns, columns);
            TensorPrimitives.Add(target, row, target);
        }
    }

    /// <inheritdoc/>
    protected override void ColumnSumsCore(DeviceBuffer matrix, int rows, int columns, DeviceBuffer sums)
    {
        ReadOnlySpan<float> values = Span(matrix);
        Span<float> result = Span(sums)[..columns];
        result.Clear();
        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Add(result, values.Slice(r * columns, columns), result);
        }
    }

    /// <inheritdoc/>
    protected override void SoftmaxCrossEntropyCore(DeviceBuffer logits, DeviceBuffer labels, int rows, int classes, DeviceBuffer probabilities, DeviceBuffer losses)
    {
        ReadOnlySpan<int> targets = CheckLabels(labels, rows, classes);
        ReadOnlySpan<float> x = Span(logits);
        Span<float> p = Span(probabilities);
        Span<float> loss = Span(losses);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = x.Slice(r * classes, classes);
            Span<float> output = p.Slice(r * classes, classes);
            float max = TensorPrimitives.Max(row);
            float shiftedTarget = row[targets[r]] - max;

            // Read before writing: the probabilities may overwrite the logits.
            TensorPrimitives.Subtract(row, max, output);
            TensorPrimitives.Exp(output, output);
            float sum = TensorPrimitives.Sum(output);
            TensorPrimitives.Divide(output, sum, output);
            loss[r] = MathF.Log(sum) - shiftedTarget;
        }
    }

    /// <inheritdoc/>
    protected override void SoftmaxCrossEntropyBackwardCore(DeviceBuffer probabilities, DeviceBuffer labels, int rows, int classes, float scale, DeviceBuffer gradLogits)
    {
        ReadOnlySpan<int> targets = CheckLabels(labels, rows, classes);
        int count = rows * classes;
        Span<float> gradient = Span(gradLogits)[..count];
        ReadOnlySpan<float> p = Span(probabilities)[..count];
        for (int r = 0; r < rows; r++)
        {
            // The one-hot term goes in before the scale, so the target element rounds as (p − 1)·scale.
            int target = (r * classes) + targets[r];
            float adjusted = p[target] - 1f;
            p.Slice(r * classes, classes).CopyTo(gradient.Slice(r * classes, classes));
            gradient[target] = adjusted;
        }

        TensorPrimitives.Multiply(gradient, scale, gradient);
    }

    /// <inheritdoc/>
    protected override void AdamUpdateCore(DeviceBuffer parameters, DeviceBuffer gradients, DeviceBuffer firstMoment, DeviceBuffer secondMoment, AdamStep settings)
    {
        float beta1 = settings.Beta1;
        float beta2 = settings.Beta2;
        float stepSize = (float)(settings.LearningRate / (1 - Math.Pow(settings.Beta1, settings.Step)));
        float correction2 = (float)Math.Sqrt(1 - Math.Pow(settings.Beta2, settings.Step));
        AdamLoop(Span(parameters), Span(gradients), Span(firstMoment), Span(secondMoment), beta1, beta2, stepSize, correction2, settings.Epsilon);
    }

    /// <inheritdoc/>
    protected override void SgdUpdateCore(DeviceBuffer parameters, DeviceBuffer gradients, DeviceBuffer? velocity, float learningRate, float momentum)
    {
        Span<float> p = Span(parameters);
        ReadOnlySpan<float> g = Span(gradients);
        if (velocity is null)
        {
            // p − lr·g, as a multiply then a subtract (no fusion at any width).
            for (int i = 0; i < p.Length; i++)
            {
                p[i] -= learningRate * g[i];
            }

            return;
        }

        Span<float> v = Span(velocity);
        for (int i = 0; i < p.Length; i++)
        {
            float vi = (momentum * v[i]) + g[i];
            v[i] = vi;
            p[i] -= learningRate * vi;
        }
    }

    // The root of v is multiplied by 1/√(1−β₂ᵗ) rather than divided, leaving one division per element (the loop is bound by
    // divider throughput). Every path runs the same IEEE operations in the same order, without fusion, so widths agree.
    private static void AdamLoop(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, float beta1, float beta2, float stepSize, float correction2, float epsilon)
    {
        float inverse = 1f / correction2;
        float oneMinusBeta1 = 1f - beta1;
        float oneMinusBeta2 = 1f - beta2;
        int i = Vector512.IsHardwareAccelerated ? Adam512(p, g, m, v, beta1, beta2, stepSize, inverse, epsilon)
            : Vector.IsHardwareAccelerated ? AdamVector(p, g, m, v, beta1, beta2, stepSize, inverse, epsilon)
            : 0;
        for (; i < p.Length; i++)
        {
            float gi = g[i];
            float mi = (beta1 * m[i]) + (oneMinusBeta1 * gi);
            float vi = (beta2 * v[i]) + (oneMinusBeta2 * gi * gi);
            m[i] = mi;
            v[i] = vi;
            p[i] -= stepSize * mi / ((MathF.Sqrt(vi) * inverse) + epsilon);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static int Adam512(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, float beta1, float beta2, float stepSize, float inverseCorrection, float epsilon)
    {
        Span<Vector512<float>> pv = MemoryMarshal.Cast<float, Vector512<float>>(p);
        ReadOnlySpan<Vector512<float>> gv = MemoryMarshal.Cast<float, Vector512<float>>(g);
        Span<Vector512<float>> mv = MemoryMarshal.Cast<float, Vector512<float>>(m);
        Span<Vector512<float>> vv = MemoryMarshal.Cast<float, Vector512<float>>(v);
        Vector512<float> b1 = Vector512.Create(beta1), b2 = Vector512.Create(beta2), c1 = Vector512.Create(1f - beta1), c2 = Vector512.Create(1f - beta2);
        Vector512<float> size = Vector512.Create(stepSize), inverse = Vector512.Create(inverseCorrection), eps = Vector512.Create(epsilon);
        for (int k = 0; k < pv.Length; k++)
        {
            Vector512<float> gk = gv[k];
            Vector512<float> mk = (b1 * mv[k]) + (c1 * gk);
            Vector512<float> vk = (b2 * vv[k]) + (c2 * gk * gk);
            mv[k] = mk;
            vv[k] = vk;
            pv[k] -= size * mk / ((Vector512.Sqrt(vk) * inverse) + eps);
        }

        return pv.Length * Vector512<float>.Count;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static int AdamVector(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, float beta1, float beta2, float stepSize, float inverseCorrection, float epsilon)
    {
        Span<Vector<float>> pv = MemoryMarshal.Cast<float, Vector<float>>(p);
        ReadOnlySpan<Vector<float>> gv = MemoryMarshal.Cast<float, Vector<float>>(g);
        Span<Vector<float>> mv = MemoryMarshal.Cast<float, Vector<float>>(m);
        Span<Vector<float>> vv = MemoryMarshal.Cast<float, Vector<float>>(v);
        Vector<float> b1 = new(beta1), b2 = new(beta2), c1 = new(1f - beta1), c2 = new(1f - beta2);
        Vector<float> size = new(stepSize), inverse = new(inverseCorrection), eps = new(epsilon);
        for (int k = 0; k < pv.Length; k++)
        {
            Vector<float> gk = gv[k];
            Vector<float> mk = (b1 * mv[k]) + (c1 * gk);
            Vector<float> vk = (b2 * vv[k]) + (c2 * gk * gk);
            mv[k] = mk;
            vv[k] = vk;
            pv[k] -= size * mk / ((Vector.SquareRoot(vk) * inverse) + eps);
        }

        return pv.Length * Vector<float>.Count;
    }

    private static ReadOnlySpan<int> CheckLabels(DeviceBuffer labels, int rows, int classes)
    {
        ReadOnlySpan<int> targets = CpuProvider.GetSpan<int>(labels)[..rows];
        for (int r = 0; r < rows; r++)
        {
            if ((uint)targets[r] >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), targets[r], $"labels[{r}] is {targets[r]}, outside [0, {classes}).");
            }
        }

        return targets;
    }

    private static Span<float> Span(DeviceBuffer buffer) => CpuProvider.GetSpan<float>(buffer);

    private static float* Pointer(DeviceBuffer buffer) => (float*)((CpuBuffer)buffer).Address;
}
