/*
 * peak.c - the core clock and the single-precision FMA peak, the ceiling the GEMM figures are read against.
 *
 * What it measures, on every OpenMP thread at once (a barrier before each repetition):
 *   clock   a chain of dependent 1-cycle integer adds: cycles per second actually delivered to the thread while it runs
 *           (time the hypervisor takes away shows up as a lower clock);
 *   zmm FMA 12 independent chains of 512-bit vfmadd231ps (enough to cover the FMA latency on every port): the FP32
 *           FLOP/s a thread can reach, counting an FMA lane as 2 FLOP;
 *   ymm FMA the same with 256-bit registers.
 *   Each probe runs for about 0.1 s per repetition; the per-thread medians are printed, then one summary line: the sum
 *   of the threads' medians, the mean clock, and zmm FLOP per cycle per core (= zmm FLOP/s / clock).
 *   bench/Artifex.Benchmarks (OpenBlasPeer.Peak) prints the summary line (the last one) as is.
 *
 * Build and run (x86-64 with AVX-512F; the probes are inline assembly, so the compiler cannot shorten them):
 *   gcc -O2 -march=native -fopenmp -o peak peak.c
 *   OMP_NUM_THREADS=1 ./peak [repetitions, default 7, at most 64]
 *
 * Part of Artifex.NET; MIT licence (see LICENSE at the repository root).
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_REPS = 64, MAX_THREADS = 64, FMA_CHAINS = 12 };

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* GHz: 8 dependent adds per iteration; the loop counter runs on its own register, in parallel with the chain. */
static double clock_ghz(long iterations)
{
    unsigned long chain = 0;
    long left = iterations;
    double t0 = seconds();
    __asm__ volatile("1:\n\t"
                     "add $1, %[c]\n\tadd $1, %[c]\n\tadd $1, %[c]\n\tadd $1, %[c]\n\t"
                     "add $1, %[c]\n\tadd $1, %[c]\n\tadd $1, %[c]\n\tadd $1, %[c]\n\t"
                     "dec %[n]\n\tjnz 1b"
                     : [c] "+r"(chain), [n] "+r"(left)
                     :
                     : "cc");
    return (double)iterations * 8 / (seconds() - t0) / 1e9;
}

#define FMA12(W)                                                                                                      \
    "vfmadd231ps %%" W "12, %%" W "13, %%" W "0\n\tvfmadd231ps %%" W "12, %%" W "13, %%" W "1\n\t"                    \
    "vfmadd231ps %%" W "12, %%" W "13, %%" W "2\n\tvfmadd231ps %%" W "12, %%" W "13, %%" W "3\n\t"                    \
    "vfmadd231ps %%" W "12, %%" W "13, %%" W "4\n\tvfmadd231ps %%" W "12, %%" W "13, %%" W "5\n\t"                    \
    "vfmadd231ps %%" W "12, %%" W "13, %%" W "6\n\tvfmadd231ps %%" W "12, %%" W "13, %%" W "7\n\t"                    \
    "vfmadd231ps %%" W "12, %%" W "13, %%" W "8\n\tvfmadd231ps %%" W "12, %%" W "13, %%" W "9\n\t"                    \
    "vfmadd231ps %%" W "12, %%" W "13, %%" W "10\n\tvfmadd231ps %%" W "12, %%" W "13, %%" W "11\n\t"

/* Zeroed registers: no denormals, and FMA latency does not depend on the values. */
#define ZERO14                                                                                                        \
    "vpxor %%xmm0, %%xmm0, %%xmm0\n\tvpxor %%xmm1, %%xmm1, %%xmm1\n\tvpxor %%xmm2, %%xmm2, %%xmm2\n\t"              \
    "vpxor %%xmm3, %%xmm3, %%xmm3\n\tvpxor %%xmm4, %%xmm4, %%xmm4\n\tvpxor %%xmm5, %%xmm5, %%xmm5\n\t"              \
    "vpxor %%xmm6, %%xmm6, %%xmm6\n\tvpxor %%xmm7, %%xmm7, %%xmm7\n\tvpxor %%xmm8, %%xmm8, %%xmm8\n\t"              \
    "vpxor %%xmm9, %%xmm9, %%xmm9\n\tvpxor %%xmm10, %%xmm10, %%xmm10\n\tvpxor %%xmm11, %%xmm11, %%xmm11\n\t"        \
    "vpxor %%xmm12, %%xmm12, %%xmm12\n\tvpxor %%xmm13, %%xmm13, %%xmm13\n\t"

#define VECTOR_CLOBBERS                                                                                               \
    "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13"

/* GFLOP/s of 12 independent 512-bit FMA chains: 12 * 16 lanes * 2 FLOP per iteration. */
static double fma_zmm_gflops(long iterations)
{
    long left = iterations;
    double t0 = seconds();
    __asm__ volatile(ZERO14 "1:\n\t" FMA12("zmm") "dec %[n]\n\tjnz 1b\n\tvzeroupper"
                     : [n] "+r"(left)
                     :
                     : VECTOR_CLOBBERS, "cc");
    return (double)iterations * FMA_CHAINS * 16 * 2 / (seconds() - t0) / 1e9;
}

/* The same with 256-bit registers: 12 * 8 lanes * 2 FLOP per iteration. */
static double fma_ymm_gflops(long iterations)
{
    long left = iterations;
    double t0 = seconds();
    __asm__ volatile(ZERO14 "1:\n\t" FMA12("ymm") "dec %[n]\n\tjnz 1b\n\tvzeroupper"
                     : [n] "+r"(left)
                     :
                     : VECTOR_CLOBBERS, "cc");
    return (double)iterations * FMA_CHAINS * 8 * 2 / (seconds() - t0) / 1e9;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v in place and returns its median. */
static double sorted_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], by_value);
    return v[n / 2];
}

static double clock_runs[MAX_THREADS][MAX_REPS], zmm_runs[MAX_THREADS][MAX_REPS], ymm_runs[MAX_THREADS][MAX_REPS];

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 7;
    if (reps < 1)
        reps = 1;
    if (reps > MAX_REPS)
        reps = MAX_REPS;
    const int threads = omp_get_max_threads() < MAX_THREADS ? omp_get_max_threads() : MAX_THREADS;

#pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num();
        fma_zmm_gflops(20000000); /* wake the vector units and let the clock settle */
        for (int r = 0; r < reps; ++r) {
#pragma omp barrier
            clock_runs[t][r] = clock_ghz(50000000);
            zmm_runs[t][r] = fma_zmm_gflops(60000000);
            ymm_runs[t][r] = fma_ymm_gflops(60000000);
        }
    }

    double clock_sum = 0, zmm_sum = 0, ymm_sum = 0;
    for (int t = 0; t < threads; ++t) {
        double zmm = sorted_median(zmm_runs[t], reps), ymm = sorted_median(ymm_runs[t], reps);
        double ghz = sorted_median(clock_runs[t], reps);
        clock_sum += ghz;
        zmm_sum += zmm;
        ymm_sum += ymm;
        printf("  thread %d: clock median %.2f GHz (%.2f..%.2f), zmm FMA %.1f GFLOP/s, ymm FMA %.1f GFLOP/s\n", t, ghz,
               clock_runs[t][0], clock_runs[t][reps - 1], zmm, ymm);
    }
    printf("threads=%d reps=%d: zmm FMA %.1f GFLOP/s, ymm FMA %.1f GFLOP/s (sums of per-thread medians); mean clock %.2f GHz; "
           "zmm FLOP/cycle/core %.1f\n",
           threads, reps, zmm_sum, ymm_sum, clock_sum / threads, zmm_sum / clock_sum);
    return 0;
}
