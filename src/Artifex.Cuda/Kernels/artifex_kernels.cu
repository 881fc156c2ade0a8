// The CUDA provider's elementwise, loss, optimizer, scaling and reproducible-sum kernels, compiled at run time by NVRTC
// (Runtime/CudaKernelImage) with --fmad=false and the default -prec-div=true -prec-sqrt=true -ftz=false.
//
// Self-contained on purpose: no #include (NVRTC has no standard headers unless given). Everything used is an NVRTC
// built-in (threadIdx, expf, __fadd_rn, atomicMin, __double_as_longlong, ...); tests/Artifex.Cuda.Tests compiles this
// file with clang-14 and a prelude that declares them.
//
// Launch shape: every kernel loops with a grid stride over long long indices, so any grid and block size is correct;
// nothing assumes a block size, shared memory or a warp layout. The work each kernel spreads over its threads:
//   elementwise, optimizer, scale, reproducible   one thread per element
//   artifex_add_bias_f32                          one thread per matrix element (rows * columns)
//   artifex_column_sums_f32                       one thread per column, rows summed in row order
//   artifex_softmax_xent_f32                      one thread per row (classes are few)
//   artifex_softmax_xent_backward_f32             one thread per element (rows * classes); a rows-sized grid is also correct
//
// Bitwise contract with the CPU provider (src/Artifex.Cpu): every result is the same IEEE operation sequence as the CPU's,
// in the same order, each rounded to nearest even. The explicitly rounded intrinsics (__fadd_rn, __fmul_rn, __dadd_rn,
// ...) are never contracted into an FMA, so the bits hold even without --fmad=false. Exceptions: softmax uses expf and
// logf, which CUDA does not round correctly (and the CPU sums with SIMD), so softmax agrees within a tolerance only; and
// NaN payloads are IEEE-unspecified (the GPU returns its canonical NaN where x86 propagates an input's payload). Where the
// CPU writes a canonical NaN (reproducible finalize), so does this code, with the CPU's bits.

#define ARTIFEX_GRID_STRIDE(i, n)                                                                  \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n);      \
         i += (long long)blockDim.x * gridDim.x)

// ---------------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------------

// .NET's float.Max (IEEE 754:2019 maximum), which TensorPrimitives.Max uses: a NaN operand is returned (x first), and
// +0 is larger than -0. (fmaxf would return the number and treat the zeros as equal.)
__device__ __forceinline__ float artifex_max(float x, float y)
{
    if (x != y)
    {
        if (x == x)
        {
            return y < x ? x : y;
        }

        return x;
    }

    return __float_as_int(y) < 0 ? x : y;
}

// The bits .NET's float.NaN has (0.0f / 0.0f on x86: negative quiet NaN).
__device__ __forceinline__ float artifex_float_nan()
{
    return __int_as_float((int)0xFFC00000u);
}

// The bits .NET's Half.NaN has (negative quiet NaN).
#define ARTIFEX_HALF_NAN ((unsigned short)0xFE00u)

// Half bits to double, exactly (as .NET's (double)Half): signed zeros, subnormals, infinities; a NaN keeps its sign and
// payload and gets the quiet bit.
__device__ __forceinline__ double artifex_half_to_double(unsigned short h)
{
    unsigned long long sign = (unsigned long long)(h & 0x8000u) << 48;
    unsigned int exponent = (h >> 10) & 0x1Fu;
    unsigned long long mantissa = h & 0x3FFu;
    if (exponent == 0)
    {
        // 0 or a subnormal: mantissa * 2^-24, exact in double (an integer below 2^10 times a power of two).
        double magnitude = __dmul_rn((double)mantissa, 5.9604644775390625e-08);
        return sign != 0 ? -magnitude : magnitude;
    }

    if (exponent == 0x1F)
    {
        unsigned long long quiet = mantissa != 0 ? 0x0008000000000000ull : 0ull;
        return __longlong_as_double((long long)(sign | 0x7FF0000000000000ull | quiet | (mantissa << 42)));
    }

    // Normal: rebias the exponent (15 to 1023) and widen the 10-bit fraction to 52 bits.
    return __longlong_as_double((long long)(sign | ((unsigned long long)(exponent + 1008u) << 52) | (mantissa << 42)));
}

// Double to Half bits, rounded once to nearest even (as .NET's (Half)double): overflow to +-Inf from 65520 up, gradual
// underflow through the subnormals, +-0 kept. A NaN becomes sign | 0x7E00 | the top payload bits, as .NET does.
__device__ __forceinline__ unsigned short artifex_double_to_half(double d)
{
    unsigned long long bits = (unsigned long long)__double_as_longlong(d);
    unsigned int sign = (unsigned int)(bits >> 48) & 0x8000u;
    int exponent = (int)((bits >> 52) & 0x7FFu);
    unsigned long long mantissa = bits & 0x000FFFFFFFFFFFFFull;
    if (exponent == 0x7FF)
    {
        return (unsigned short)(sign | (mantissa != 0 ? 0x7E00u | (unsigned int)(mantissa >> 42) : 0x7C00u));
    }

    int e = exponent - 1023;
    if (e >= 16)
    {
        return (unsigned short)(sign | 0x7C00u); // |d| >= 2^16: beyond the largest Half even before rounding
    }

    if (e < -25)
    {
        return (unsigned short)sign; // |d| < 2^-25, half the smallest subnormal: rounds to +-0 (double subnormals too)
    }

    // 53-bit significand; drop 42 bits for a normal Half (11 kept), more for a subnormal one (e in [-25, -15]: 43..53).
    unsigned long long significand = mantissa | 0x0010000000000000ull;
    int shift = e >= -14 ? 42 : 42 + (-14 - e);
    unsigned long long kept = significand >> shift;
    unsigned long long remainder = significand & ((1ull << shift) - 1ull);
    unsigned long long halfway = 1ull << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (kept & 1ull) != 0))
    {
        kept++;
    }

    if (e >= -14)
    {
        // kept is in [0x400, 0x800]; a carry to 0x800 moves into the exponent (and from 65504 up to 0x7C00, Inf).
        return (unsigned short)(sign | (((unsigned int)(e + 15) << 10) + (unsigned int)(kept - 0x400u)));
    }

    // Subnormal: kept is in [0, 0x400]; 0x400 is the smallest normal, which is the same encoding.
    return (unsigned short)(sign | (unsigned int)kept);
}

// Float to Half bits, as .NET's (Half)float: exact widening to double, then one rounding. A NaN keeps its sign and top
// payload bits with the quiet bit set.
__device__ __forceinline__ unsigned short artifex_float_to_half(float x)
{
    unsigned int bits = (unsigned int)__float_as_int(x);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u)
    {
        return (unsigned short)(((bits >> 16) & 0x8000u) | 0x7E00u | ((bits >> 13) & 0x3FFu));
    }

    return artifex_double_to_half((double)x);
}

// ---------------------------------------------------------------------------------------------------------------------
// Elementwise
// ---------------------------------------------------------------------------------------------------------------------

extern "C" __global__ void artifex_add_f32(const float* x, const float* y, float* result, long long n)
{
    ARTIFEX_GRID_STRIDE(i, n)
    {
        result[i] = __fadd_rn(x[i], y[i]);
    }
}

extern "C" __global__ void artifex_multiply_f32(const float* x, const float* y, float* result, long long n)
{
    ARTIFEX_GRID_STRIDE(i, n)
    {
        result[i] = __fmul_rn(x[i], y[i]);
    }
}

// max(x, 0) with .NET's semantics: NaN stays NaN, -0 becomes +0.
extern "C" __global__ void artifex_relu_f32(const float* x, float* result, long long n)
{
    ARTIFEX_GRID_STRIDE(i, n)
    {
        result[i] = artifex_max(x[i], 0.0f);
    }
}

extern "C" __global__ void artifex_relu_backward_f32(const float* gradOutput, const float* output, float* gradInput, long long n)
{
    ARTIFEX_GRID_STRIDE(i, n)
    {
        gradInput[i] = output[i] > 0.0f ? gradOutput[i] : 0.0f;
    }
}

// Adds the bias row to every row of the row-major rows x columns matrix, in place.
extern "C" __global__ void artifex_add_bias_f32(float* matrix, const float* bias, int rows, int columns)
{
    long long total = (long long)rows * columns;
    ARTIFEX_GRID_STRIDE(i, total)
    {
        matrix[i] = __fadd_rn(matrix[i], bias[i % columns]);
    }
}

// sums[c] = ((0 + m[0][c]) + m[1][c]) + ...: one thread per column, rows in order, as the CPU adds row after row.
extern "C" __global__ void artifex_column_sums_f32(const float* matrix, int rows, int columns, float* sums)
{
    ARTIFEX_GRID_STRIDE(c, columns)
    {
        float sum = 0.0f;
        for (int r = 0; r < rows; r++)
        {
            sum = __fadd_rn(sum, matrix[(long long)r * columns + c]);
        }

        sums[c] = sum;
    }
}

// ---------------------------------------------------------------------------------------------------------------------
// Softmax cross-entropy
// ---------------------------------------------------------------------------------------------------------------------

// One thread per row: classes are few, and a row's max, sum and division are sequential anyway. Per row: max (NaN
// propagates), p = exp(x - max), sum in class order, p /= sum, loss = log(sum) - (x[target] - max). The probabilities may
// alias the logits: each logit is read before its probability is written, and x[target] before any. The host checks the
// labels; an out-of-range one here gives a NaN loss instead of reading outside the row.
extern "C" __global__ void artifex_softmax_xent_f32(const float* logits, const int* labels, int rows, int classes, float* probabilities, float* losses)
{
    if (classes <= 0)
    {
        return;
    }

    ARTIFEX_GRID_STRIDE(r, rows)
    {
        const float* x = logits + r * classes;
        float* p = probabilities + r * classes;
        float max = x[0];
        for (int j = 1; j < classes; j++)
        {
            max = artifex_max(max, x[j]);
        }

        int target = labels[r];
        float shiftedTarget = (unsigned int)target < (unsigned int)classes ? __fsub_rn(x[target], max) : artifex_float_nan();
        float sum = 0.0f;
        for (int j = 0; j < classes; j++)
        {
            float e = expf(__fsub_rn(x[j], max));
            p[j] = e;
            sum = __fadd_rn(sum, e);
        }

        for (int j = 0; j < classes; j++)
        {
            p[j] = __fdiv_rn(p[j], sum);
        }

        losses[r] = __fsub_rn(logf(sum), shiftedTarget);
    }
}

// gradLogits = (p - onehot(target)) * scale, with the one-hot term subtracted before the scale: the target element rounds
// as (p - 1) * scale, the others as p * scale. One thread per element, so the gradient may alias the probabilities; a
// grid sized for rows alone is also correct (the grid stride covers the rest). An out-of-range label adjusts nothing.
extern "C" __global__ void artifex_softmax_xent_backward_f32(const float* probabilities, const int* labels, int rows, int classes, float scale, float* gradLogits)
{
    long long total = (long long)rows * classes;
    ARTIFEX_GRID_STRIDE(i, total)
    {
        long long r = i / classes;
        int j = (int)(i - r * classes);
        float p = probabilities[i];
        float value = j == labels[r] ? __fsub_rn(p, 1.0f) : p;
        gradLogits[i] = __fmul_rn(value, scale);
    }
}

// ---------------------------------------------------------------------------------------------------------------------
// Optimizers (the CPU's scalar tail, operation for operation, left to right)
// ---------------------------------------------------------------------------------------------------------------------

// m = beta1*m + (1-beta1)*g; v = beta2*v + ((1-beta2)*g)*g; p -= (stepSize*m) / (sqrt(v)*inverseCorrection + epsilon).
extern "C" __global__ void artifex_adam_f32(float* p, const float* g, float* m, float* v, long long n, float beta1, float beta2, float oneMinusBeta1, float oneMinusBeta2, float stepSize, float inverseCorrection, float epsilon)
{
    ARTIFEX_GRID_STRIDE(i, n)
    {
        float gi = g[i];
        float mi = __fadd_rn(__fmul_rn(beta1, m[i]), __fmul_rn(oneMinusBeta1, gi));
        float vi = __fadd_rn(__fmul_rn(beta2, v[i]), __fmul_rn(__fmul_rn(oneMinusBeta2, gi), gi));
        m[i] = mi;
        v[i] = vi;
        float denominator = __fadd_rn(__fmul_rn(__fsqrt_rn(vi), inverseCorrection), epsilon);
        p[i] = __fsub_rn(p[i], __fdiv_rn(__fmul_rn(stepSize, mi), denominator));
    }
}

// p -= lr*g: a multiply then a subtract.
extern "C" __global__ void artifex_sgd_f32(float* p, const float* g, long long n, float learningRate)
{
    ARTIFEX_GRID_STRIDE(i, n)
    {
        p[i] = __fsub_rn(p[i], __fmul_rn(learningRate, g[i]));
    }
}

// v = momentum*v + g; p -= lr*v.
extern "C" __global__ void artifex_sgd_momentum_f32(float* p, const float* g, float* velocity, long long n, float learningRate, float momentum)
{
    ARTIFEX_GRID_STRIDE(i, n)
    {
        float vi = __fadd_rn(__fmul_rn(momentum, velocity[i]), g[i]);
        velocity[i] = vi;
        p[i] = __fsub_rn(p[i], __fmul_rn(learningRate, vi));
    }
}

// ---------------------------------------------------------------------------------------------------------------------
// In-place scaling (the collectives' mean): x * factor or x / factor, one rounding in the element type; Half computes in
// Single and rounds once to Half, as .NET's Half arithmetic does. divide: 0 to multiply, 1 to divide.
// ---------------------------------------------------------------------------------------------------------------------

extern "C" __global__ void artifex_scale_f32(float* x, long long n, float factor, int divide)
{
    ARTIFEX_GRID_STRIDE(i, n)
    {
        x[i] = divide != 0 ? __fdiv_rn(x[i], factor) : __fmul_rn(x[i], factor);
    }
}

extern "C" __global__ void artifex_scale_f64(double* x, long long n, double factor, int divide)
{
    ARTIFEX_GRID_STRIDE(i, n)
    {
        x[i] = divide != 0 ? __ddiv_rn(x[i], factor) : __dmul_rn(x[i], factor);
    }
}

extern "C" __global__ void artifex_scale_f16(unsigned short* x, long long n, float factor, int divide)
{
    ARTIFEX_GRID_STRIDE(i, n)
    {
        float value = (float)artifex_half_to_double(x[i]); // exact: every Half is a float
        x[i] = artifex_float_to_half(divide != 0 ? __fdiv_rn(value, factor) : __fmul_rn(value, factor));
    }
}

// ---------------------------------------------------------------------------------------------------------------------
// Casts of compressed gradient communication: Single divided once in Single, then rounded once to Half; Half to Single is
// exact. As the CPU provider's TensorPrimitives casts (round to nearest even).
// ---------------------------------------------------------------------------------------------------------------------

extern "C" __global__ void artifex_convert_f32_f16(const float* source, unsigned short* destination, long long n, float divisor)
{
    ARTIFEX_GRID_STRIDE(i, n)
    {
        destination[i] = artifex_float_to_half(divisor != 1.0f ? __fdiv_rn(source[i], divisor) : source[i]);
    }
}

extern "C" __global__ void artifex_convert_f16_f32(const unsigned short* source, float* destination, long long n)
{
    ARTIFEX_GRID_STRIDE(i, n)
    {
        destination[i] = (float)artifex_half_to_double(source[i]); // exact: every Half is a float
    }
}

// ---------------------------------------------------------------------------------------------------------------------
// Reproducible summation, PR3 v2 (Artifex.Abstractions/Reproducible/ReproducibleSum.cs; the CPU's scalar paths in
// Artifex.Cpu/Kernels/Reproducible/ReproducibleKernels.cs). State: 3 levels x count doubles, level-major. Every step is
// the CPU's IEEE double operation in the CPU's order; doubles never flush subnormals on the GPU.
// ---------------------------------------------------------------------------------------------------------------------

#define ARTIFEX_S0 (1.5 * 70368744177664.0) // 1.5 * 2^46
#define ARTIFEX_S1 (1.5 * 256.0)            // 1.5 * 2^8
#define ARTIFEX_S2 (1.5 / 1073741824.0)     // 1.5 * 2^-30 (exact)

// The bits of x with the lowest set: the sticky bit, which rules out ties, so each level's rounding depends on x alone.
__device__ __forceinline__ double artifex_sticky(double x)
{
    return __longlong_as_double(__double_as_longlong(x) | 1ll);
}

__device__ __forceinline__ void artifex_deposit(double x, double* a0, double* a1, double* a2)
{
    // The residual passed on is x's own exact remainder (Sterbenz), not the sticky value's.
    double l0 = *a0;
    double t = __dadd_rn(l0, artifex_sticky(x));
    x = __dadd_rn(x, __dsub_rn(l0, t));
    *a0 = t;
    double l1 = *a1;
    t = __dadd_rn(l1, artifex_sticky(x));
    x = __dadd_rn(x, __dsub_rn(l1, t));
    *a1 = t;
    *a2 = __dadd_rn(*a2, artifex_sticky(x));
}

// The one fixed finalize sequence: unbias each level (exact), add in level order, scale.
__device__ __forceinline__ double artifex_finalize(const double* state, long long count, long long i, double scale)
{
    double u0 = __dsub_rn(state[i], ARTIFEX_S0);
    double u1 = __dsub_rn(state[count + i], ARTIFEX_S1);
    double u2 = __dsub_rn(state[2 * count + i], ARTIFEX_S2);
    return __dmul_rn(__dadd_rn(__dadd_rn(u0, u1), u2), scale);
}

extern "C" __global__ void artifex_repro_reset(double* state, long long count)
{
    ARTIFEX_GRID_STRIDE(i, count)
    {
        state[i] = ARTIFEX_S0;
        state[count + i] = ARTIFEX_S1;
        state[2 * count + i] = ARTIFEX_S2;
    }
}

// Adds (biased != 0) or subtracts the level biases: state + (+-S), exact for any reachable state.
extern "C" __global__ void artifex_repro_set_bias(double* state, long long count, int biased)
{
    double sign = biased != 0 ? 1.0 : -1.0;
    double d0 = sign * ARTIFEX_S0, d1 = sign * ARTIFEX_S1, d2 = sign * ARTIFEX_S2; // exact: a sign change
    ARTIFEX_GRID_STRIDE(i, count)
    {
        state[i] = __dadd_rn(state[i], d0);
        state[count + i] = __dadd_rn(state[count + i], d1);
        state[2 * count + i] = __dadd_rn(state[2 * count + i], d2);
    }
}

extern "C" __global__ void artifex_repro_deposit_f32(double* state, const float* values, long long count)
{
    ARTIFEX_GRID_STRIDE(i, count)
    {
        artifex_deposit((double)values[i], state + i, state + count + i, state + 2 * count + i);
    }
}

extern "C" __global__ void artifex_repro_deposit_f16(double* state, const unsigned short* values, long long count)
{
    ARTIFEX_GRID_STRIDE(i, count)
    {
        artifex_deposit(artifex_half_to_double(values[i]), state + i, state + count + i, state + 2 * count + i);
    }
}

// state += other - S per level: exact, and commutative in effect.
extern "C" __global__ void artifex_repro_merge(double* state, const double* other, long long count)
{
    ARTIFEX_GRID_STRIDE(i, count)
    {
        state[i] = __dadd_rn(state[i], __dsub_rn(other[i], ARTIFEX_S0));
        state[count + i] = __dadd_rn(state[count + i], __dsub_rn(other[count + i], ARTIFEX_S1));
        state[2 * count + i] = __dadd_rn(state[2 * count + i], __dsub_rn(other[2 * count + i], ARTIFEX_S2));
    }
}

// Rounded once to float (nearest even); NaN becomes .NET's float.NaN bits.
extern "C" __global__ void artifex_repro_finalize_f32(const double* state, float* output, long long count, double scale)
{
    ARTIFEX_GRID_STRIDE(i, count)
    {
        float r = __double2float_rn(artifex_finalize(state, count, i, scale));
        output[i] = r != r ? artifex_float_nan() : r;
    }
}

// Rounded once to Half (nearest even); NaN becomes .NET's Half.NaN bits.
extern "C" __global__ void artifex_repro_finalize_f16(const double* state, unsigned short* output, long long count, double scale)
{
    ARTIFEX_GRID_STRIDE(i, count)
    {
        double v = artifex_finalize(state, count, i, scale);
        output[i] = v != v ? ARTIFEX_HALF_NAN : artifex_double_to_half(v);
    }
}

// The smallest index with |x| > 2^30 or +-Inf (NaN passes), by atomicMin into *firstBad (ULLONG_MAX when none).
extern "C" __global__ void artifex_find_outside_window_f32(const float* values, long long count, unsigned long long* firstBad)
{
    ARTIFEX_GRID_STRIDE(i, count)
    {
        if (fabsf(values[i]) > 1073741824.0f)
        {
            atomicMin(firstBad, (unsigned long long)i);
        }
    }
}

// The smallest index of a +-Inf Half (every finite Half is inside the window), by atomicMin into *firstBad.
extern "C" __global__ void artifex_find_outside_window_f16(const unsigned short* values, long long count, unsigned long long* firstBad)
{
    ARTIFEX_GRID_STRIDE(i, count)
    {
        if ((values[i] & 0x7FFFu) == 0x7C00u)
        {
            atomicMin(firstBad, (unsigned long long)i);
        }
    }
}

// Every NaN to the canonical quiet NaN of its type (.NET's float.NaN, 0xFFC00000, and Half.NaN, 0xFE00): IEEE max and min
// are order-independent except for NaN payloads, so a reproducible pmax/pmin ends with this.
extern "C" __global__ void artifex_canonical_nan_f32(float* x, long long n)
{
    ARTIFEX_GRID_STRIDE(i, n)
    {
        if (x[i] != x[i])
        {
            x[i] = __int_as_float((int)0xFFC00000u);
        }
    }
}

extern "C" __global__ void artifex_canonical_nan_f16(unsigned short* x, long long n)
{
    ARTIFEX_GRID_STRIDE(i, n)
    {
        if ((x[i] & 0x7C00u) == 0x7C00u && (x[i] & 0x03FFu) != 0)
        {
            x[i] = ARTIFEX_HALF_NAN;
        }
    }
}
