// The prelude of the kernel-source compile check (KernelSourceTests): clang-14 compiles artifex_kernels.cu to PTX with
// -nocudainc -nocudalib and `-include` of this file, standing in for what NVRTC provides built in. It is never given to
// NVRTC, and the kernel source never includes it. The math functions only need the right signatures: approximations are
// fine, since the PTX is checked for its entry points, not run.
#ifndef ARTIFEX_CLANG_PRELUDE_H
#define ARTIFEX_CLANG_PRELUDE_H

#if !defined(__clang__) || !defined(__CUDA__) || defined(__CUDACC_RTC__)
#error "clang_prelude.h is only for the clang compile check of artifex_kernels.cu."
#endif

#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __forceinline__ __inline__ __attribute__((always_inline))

// Reinterpretation.
__device__ __forceinline__ int __float_as_int(float x) { return __nvvm_bitcast_f2i(x); }
__device__ __forceinline__ float __int_as_float(int x) { return __nvvm_bitcast_i2f(x); }
__device__ __forceinline__ long long __double_as_longlong(double x) { return __nvvm_bitcast_d2ll(x); }
__device__ __forceinline__ double __longlong_as_double(long long x) { return __nvvm_bitcast_ll2d(x); }

// Explicitly rounded single arithmetic.
__device__ __forceinline__ float __fadd_rn(float x, float y) { return __nvvm_add_rn_f(x, y); }
__device__ __forceinline__ float __fsub_rn(float x, float y) { return __nvvm_add_rn_f(x, -y); }
__device__ __forceinline__ float __fmul_rn(float x, float y) { return __nvvm_mul_rn_f(x, y); }
__device__ __forceinline__ float __fdiv_rn(float x, float y) { return __nvvm_div_rn_f(x, y); }
__device__ __forceinline__ float __fsqrt_rn(float x) { return __nvvm_sqrt_rn_f(x); }

// Explicitly rounded double arithmetic and conversion.
__device__ __forceinline__ double __dadd_rn(double x, double y) { return __nvvm_add_rn_d(x, y); }
__device__ __forceinline__ double __dsub_rn(double x, double y) { return __nvvm_add_rn_d(x, -y); }
__device__ __forceinline__ double __dmul_rn(double x, double y) { return __nvvm_mul_rn_d(x, y); }
__device__ __forceinline__ double __ddiv_rn(double x, double y) { return __nvvm_div_rn_d(x, y); }
__device__ __forceinline__ float __double2float_rn(double x) { return __nvvm_d2f_rn(x); }

// Fused multiply-adds: declared so that a kernel using one still compiles, and the test then finds the fma in the PTX.
__device__ __forceinline__ float fmaf(float x, float y, float z) { return __nvvm_fma_rn_f(x, y, z); }
__device__ __forceinline__ float __fmaf_rn(float x, float y, float z) { return __nvvm_fma_rn_f(x, y, z); }
__device__ __forceinline__ double fma(double x, double y, double z) { return __nvvm_fma_rn_d(x, y, z); }
__device__ __forceinline__ double __fma_rn(double x, double y, double z) { return __nvvm_fma_rn_d(x, y, z); }

// Math functions (approximate here; NVRTC's are the real ones).
__device__ __forceinline__ float fabsf(float x) { return __nvvm_fabs_f(x); }
__device__ __forceinline__ float sqrtf(float x) { return __nvvm_sqrt_rn_f(x); }
__device__ __forceinline__ float fmaxf(float x, float y) { return __nvvm_fmax_f(x, y); }
__device__ __forceinline__ float expf(float x) { return __nvvm_ex2_approx_f(x * 1.4426950408889634f); }
__device__ __forceinline__ float logf(float x) { return __nvvm_lg2_approx_f(x) * 0.6931471805599453f; }

// Atomics.
__device__ __forceinline__ unsigned long long atomicMin(unsigned long long* address, unsigned long long value)
{
    return __nvvm_atom_min_gen_ull(address, value);
}

#endif
