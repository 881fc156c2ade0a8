/*
 * allreduce_omp.c - native reference for the in-process float all-reduce (sum, in place).
 *
 * What it measures
 *   N buffers of S bytes of float (N = 2, 4, 8; S = 64 KiB, 1 MiB, 16 MiB, 64 MiB) are summed element by element and
 *   every buffer ends up holding the sum. One fused pass does it: for each 64-byte block (16 floats, one AVX-512
 *   register) the block of every buffer is loaded and added, and the sum is stored back into every buffer, so each
 *   byte is read once and written once (2*N*S bytes of traffic per all-reduce). The element range is cut into one
 *   contiguous slice per OpenMP thread; each thread first-touches its own slice of every buffer.
 *
 *   Per (N, S): an exactness check on integer-valued data, then the buffers are zeroed and every timed pass runs on
 *   zeros (repeated in-place sums stay finite); two untimed passes, a calibration of the passes per sample, then 7
 *   samples of about sample_ms each. The reported time is the median sample's time per all-reduce.
 *
 * Output: two header lines starting with '#', then one line per (N, S):
 *   N  S(bytes)  time(us)  algbw(GB/s)  busbw(GB/s)  2NS/t(GB/s)  #wrong
 *   algbw = S/t, busbw = algbw*2(N-1)/N (nccl-tests), 2NS/t = the in-place traffic rate; GB = 1e9 B.
 *   bench/Artifex.Benchmarks (NativeAllReducePeer) reads the first three columns.
 *
 * Build and run (AVX-512 required; threads from OMP_NUM_THREADS):
 *   gcc -O3 -march=native -fopenmp -o allreduce_omp allreduce_omp.c
 *   OMP_NUM_THREADS=2 OMP_PROC_BIND=close OMP_PLACES=cores ./allreduce_omp [sample_ms, default 30]
 *
 * Part of Artifex.NET; MIT licence (see LICENSE at the repository root).
 */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef __AVX512F__
#error "allreduce_omp needs AVX-512F: build with -march=native on an AVX-512 machine"
#endif

enum { LANES = 16, MAX_BUFFERS = 8, SAMPLES = 7 };

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The fused pass over [from, to) floats. Inlined into one wrapper per buffer count, so that count is a constant,
   both inner loops unroll, and the buffer pointers stay in registers (they are copied into a local array that the
   vector stores cannot alias). */
static inline __attribute__((always_inline)) void fuse(float *const *buffers, const int count, size_t from, size_t to)
{
    float *base[MAX_BUFFERS];
    for (int k = 0; k < count; ++k)
        base[k] = buffers[k];
    for (size_t i = from; i < to; i += LANES) {
        __m512 sum = _mm512_load_ps(base[0] + i);
        for (int k = 1; k < count; ++k)
            sum = _mm512_add_ps(sum, _mm512_load_ps(base[k] + i));
        for (int k = 0; k < count; ++k)
            _mm512_store_ps(base[k] + i, sum);
    }
}

static void fuse2(float *const *b, size_t from, size_t to) { fuse(b, 2, from, to); }
static void fuse4(float *const *b, size_t from, size_t to) { fuse(b, 4, from, to); }
static void fuse8(float *const *b, size_t from, size_t to) { fuse(b, 8, from, to); }

/* This thread's slice of a length of `floats` (a multiple of LANES): whole 16-float blocks, split as evenly as the
   block count allows. */
static void my_slice(size_t floats, size_t *from, size_t *to)
{
    size_t blocks = floats / LANES, thread = (size_t)omp_get_thread_num(), threads = (size_t)omp_get_num_threads();
    *from = blocks * thread / threads * LANES;
    *to = blocks * (thread + 1) / threads * LANES;
}

static void all_reduce(float *const *buffers, int count, size_t floats)
{
    void (*pass)(float *const *, size_t, size_t) = count == 2 ? fuse2 : count == 4 ? fuse4 : fuse8;
#pragma omp parallel
    {
        size_t from, to;
        my_slice(floats, &from, &to);
        pass(buffers, from, to);
    }
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Buffer k holds (k+1) * (i % 13 + 1) at element i, written by the thread that will later work on that slice. */
static void fill_pattern(float *const *buffers, int count, size_t floats)
{
#pragma omp parallel
    {
        size_t from, to;
        my_slice(floats, &from, &to);
        for (int k = 0; k < count; ++k)
            for (size_t i = from; i < to; ++i)
                buffers[k][i] = (float)(k + 1) * (float)(i % 13 + 1);
    }
}

static long count_wrong(float *const *buffers, int count, size_t floats)
{
    const float total = (float)(count * (count + 1) / 2);
    long wrong = 0;
    for (int k = 0; k < count; ++k)
        for (size_t i = 0; i < floats; ++i)
            wrong += buffers[k][i] != total * (float)(i % 13 + 1);
    return wrong;
}

/* Median seconds per all-reduce over SAMPLES samples of about sample_s each. */
static double time_all_reduce(float *const *buffers, int count, size_t floats, double sample_s)
{
    all_reduce(buffers, count, floats);
    all_reduce(buffers, count, floats);

    /* calibration: passes until a tenth of a sample (or one pass) has gone by */
    long passes = 0;
    double start = seconds(), elapsed;
    do {
        all_reduce(buffers, count, floats);
        ++passes;
        elapsed = seconds() - start;
    } while (elapsed < sample_s / 10);
    long per_sample = (long)(sample_s / (elapsed / (double)passes));
    if (per_sample < 1)
        per_sample = 1;

    double sample[SAMPLES];
    for (int s = 0; s < SAMPLES; ++s) {
        double t0 = seconds();
        for (long p = 0; p < per_sample; ++p)
            all_reduce(buffers, count, floats);
        sample[s] = (seconds() - t0) / (double)per_sample;
    }
    qsort(sample, SAMPLES, sizeof sample[0], by_value);
    return sample[SAMPLES / 2];
}

int main(int argc, char **argv)
{
    const double sample_ms = argc > 1 ? atof(argv[1]) : 30.0;
    const int counts[] = {2, 4, 8};
    const size_t sizes[] = {(size_t)64 << 10, (size_t)1 << 20, (size_t)16 << 20, (size_t)64 << 20};

    printf("# native OpenMP fused all-reduce (float sum, in place, AVX-512), threads=%d, %d samples of ~%.0f ms, median\n",
           omp_get_max_threads(), SAMPLES, sample_ms);
    printf("# %1s %10s %11s %8s %8s %8s %7s\n", "N", "S(B)", "time(us)", "algbw", "busbw", "2NS/t", "#wrong");
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; ++c) {
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; ++z) {
            const int count = counts[c];
            const size_t bytes = sizes[z], floats = bytes / sizeof(float);
            float *buffers[MAX_BUFFERS];
            for (int k = 0; k < count; ++k) {
                buffers[k] = aligned_alloc(64, bytes);
                if (!buffers[k]) {
                    fprintf(stderr, "out of memory\n");
                    return 1;
                }
            }

            fill_pattern(buffers, count, floats);
            all_reduce(buffers, count, floats);
            long wrong = count_wrong(buffers, count, floats);
            for (int k = 0; k < count; ++k)
                memset(buffers[k], 0, bytes);

            double t = time_all_reduce(buffers, count, floats, sample_ms * 1e-3);
            double algbw = (double)bytes / t / 1e9;
            printf("%3d %10zu %11.2f %8.2f %8.2f %8.2f %7ld\n", count, bytes, t * 1e6, algbw,
                   algbw * 2.0 * (count - 1) / count, 2.0 * count * (double)bytes / t / 1e9, wrong);
            fflush(stdout);
            for (int k = 0; k < count; ++k)
                free(buffers[k]);
        }
    }
    return 0;
}
