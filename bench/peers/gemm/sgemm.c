/*
 * sgemm.c - OpenBLAS cblas_sgemm throughput, the anchor for Artifex's own GEMM kernels.
 *
 * What it measures
 *   Row-major single-precision C = A*B (alpha 1, beta 0) for square shapes 128^3 .. 2048^3 and the three GEMMs of the
 *   training sample's first layer (batch 256, 784 -> 512): the forward product, the weight gradient (A transposed) and
 *   the input gradient (B transposed). Per shape: calls for 50 ms to estimate one call's time, then 7 samples of k
 *   back-to-back calls each (k chosen so the 7 samples take about target_seconds together). GFLOP/s = 2*M*N*K / t,
 *   with t the time per call of a sample; the median, slowest and fastest sample are printed.
 *
 * Output: a '#' line naming the OpenBLAS build and the core type it chose ("core: NAME"), a column header, then per
 *   shape:  name  M  N  K  median_GFLOP/s  min_GFLOP/s  max_GFLOP/s  median_ms
 *   bench/Artifex.Benchmarks (OpenBlasPeer) reads the name (everything before M), M, the median and the core name;
 *   the shape names are the ones bench/Artifex.Benchmarks/GemmShapes.cs uses.
 *
 * Build and run (Debian: apt-get install libopenblas-dev; threads from OPENBLAS_NUM_THREADS, kernels from
 * OPENBLAS_CORETYPE, e.g. Haswell for the AVX2 ones):
 *   gcc -O3 -march=native -o sgemm sgemm.c -lopenblas
 *   OPENBLAS_NUM_THREADS=1 ./sgemm [target_seconds per shape, default 0.7]
 *
 * Part of Artifex.NET; MIT licence (see LICENSE at the repository root).
 */
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* OpenBLAS extensions (declared here so the program also builds against a cblas.h that omits them). */
char *openblas_get_config(void);
char *openblas_get_corename(void);
int openblas_get_num_threads(void);

enum { SAMPLES = 7 };

typedef struct {
    const char *name;
    int m, n, k;
    int transpose_a, transpose_b;
} gemm_shape;

static const gemm_shape shapes[] = {
    {"128^3", 128, 128, 128, 0, 0},
    {"256^3", 256, 256, 256, 0, 0},
    {"512^3", 512, 512, 512, 0, 0},
    {"1024^3", 1024, 1024, 1024, 0, 0},
    {"2048^3", 2048, 2048, 2048, 0, 0},
    {"fwd 256x784*784x512", 256, 512, 784, 0, 0},
    {"dW (256x784)^T*256x512", 784, 512, 256, 1, 0},
    {"dX 256x512*(784x512)^T", 256, 784, 512, 0, 1},
};

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* 64-byte aligned floats in [-0.5, 0.5) from a small linear congruential generator (no zeros-only fast paths). */
static float *random_matrix(size_t count, uint32_t seed)
{
    float *p = aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < count; ++i) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
    }
    return p;
}

typedef struct {
    const gemm_shape *shape;
    const float *a, *b;
    float *c;
} gemm_call;

static void run_calls(const gemm_call *g, long calls)
{
    const gemm_shape *s = g->shape;
    /* row-major: A is M x K (stored K x M when transposed), B is K x N (stored N x K when transposed) */
    const int lda = s->transpose_a ? s->m : s->k, ldb = s->transpose_b ? s->k : s->n;
    for (long i = 0; i < calls; ++i)
        cblas_sgemm(CblasRowMajor, s->transpose_a ? CblasTrans : CblasNoTrans, s->transpose_b ? CblasTrans : CblasNoTrans,
                    s->m, s->n, s->k, 1.0f, g->a, lda, g->b, ldb, 0.0f, g->c, s->n);
}

int main(int argc, char **argv)
{
    const double target = argc > 1 ? atof(argv[1]) : 0.7;
    const char *core_type = getenv("OPENBLAS_CORETYPE");
    printf("# %s | core: %s | threads: %d | OPENBLAS_CORETYPE=%s\n", openblas_get_config(), openblas_get_corename(),
           openblas_get_num_threads(), core_type ? core_type : "(unset)");
    printf("%-28s %6s %6s %6s %10s %10s %10s %9s\n", "shape", "M", "N", "K", "med_GF/s", "min_GF/s", "max_GF/s", "med_ms");

    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; ++i) {
        const gemm_shape *s = &shapes[i];
        gemm_call g = {s, random_matrix((size_t)s->m * s->k, 1u + (uint32_t)i), random_matrix((size_t)s->k * s->n, 101u + (uint32_t)i),
                       random_matrix((size_t)s->m * s->n, 7u)};

        long probe = 0;
        double start = seconds(), elapsed;
        do {
            run_calls(&g, 1);
            ++probe;
            elapsed = seconds() - start;
        } while (elapsed < 0.05);
        long calls = (long)(target / SAMPLES / (elapsed / (double)probe));
        if (calls < 1)
            calls = 1;

        double per_call[SAMPLES];
        for (int j = 0; j < SAMPLES; ++j) {
            double t0 = seconds();
            run_calls(&g, calls);
            per_call[j] = (seconds() - t0) / (double)calls;
        }
        qsort(per_call, SAMPLES, sizeof per_call[0], by_value);

        const double gflop = 2.0 * s->m * s->n * s->k / 1e9;
        printf("%-28s %6d %6d %6d %10.1f %10.1f %10.1f %9.3f\n", s->name, s->m, s->n, s->k, gflop / per_call[SAMPLES / 2],
               gflop / per_call[SAMPLES - 1], gflop / per_call[0], per_call[SAMPLES / 2] * 1e3);
        fflush(stdout);
        free((void *)g.a);
        free((void *)g.b);
        free(g.c);
    }
    return 0;
}
