/*
 * mpi_allreduce.c - OpenMPI MPI_Allreduce sweep, the anchor for Artifex's MPI provider and --compare-mpi.
 *
 * What it measures
 *   In-place MPI_Allreduce (MPI_IN_PLACE, MPI_FLOAT, MPI_SUM) over MPI_COMM_WORLD for sizes min_bytes, 4*min_bytes, ...
 *   up to max_bytes, all in a prefix of one 64-byte aligned buffer of max_bytes. Per size:
 *   - exactness: rank r fills element i with (r+1)*(i%17+1), one all-reduce, every rank counts the elements that differ
 *     from np(np+1)/2*(i%17+1) (exact in float at these magnitudes); the counts are summed over the ranks (#wrong);
 *   - timing on zeros (repeated in-place sums stay finite): one warm-up, one timed call whose slowest rank sets the
 *     iteration count (so all ranks agree) for about target_seconds in all, up to 5 more warm-up calls, then 3 samples
 *     (when one call takes over a fifth of the target) or 5 samples; a sample is a barrier followed by a back-to-back
 *     loop, its time per call averaged over the ranks (as nccl-tests does). The median sample is reported.
 *   algbw = bytes / time (GB = 1e9 B), busbw = algbw * 2(np-1)/np.
 *
 * Output (rank 0 only): '#' lines (library version, settings, column names), then per size, nccl-tests-like:
 *   size(B)  count  float  sum  time(us)  algbw  busbw  #wrong  iterations
 *   bench/Artifex.Perf (MpiPeer) reads the size and the time.
 *
 * Build and run (Debian: apt-get install openmpi-bin libopenmpi-dev):
 *   mpicc -O3 -march=native -o mpi_allreduce mpi_allreduce.c
 *   mpirun -np 2 ./mpi_allreduce [min_bytes, default 4] [max_bytes, default 256 MiB] [target_seconds per size, default 0.2]
 *   (add --oversubscribe for more ranks than cores; as root, --allow-run-as-root)
 *
 * Part of Artifex.NET; MIT licence (see LICENSE at the repository root).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_SAMPLES = 5 };
static const long MAX_ITERATIONS = 200000;

static int rank, ranks;

static void sum_in_place(float *buffer, size_t count)
{
    MPI_Allreduce(MPI_IN_PLACE, buffer, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Elements wrong anywhere in the job after one all-reduce of rank-dependent integers. */
static long count_wrong(float *buffer, size_t count)
{
    for (size_t i = 0; i < count; ++i)
        buffer[i] = (float)(rank + 1) * (float)(i % 17 + 1);
    sum_in_place(buffer, count);
    const float total = (float)(ranks * (ranks + 1) / 2);
    long mine = 0, all = 0;
    for (size_t i = 0; i < count; ++i)
        mine += buffer[i] != total * (float)(i % 17 + 1);
    MPI_Allreduce(&mine, &all, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    return all;
}

/* Seconds per call of the median sample (each sample's time averaged over the ranks); *iterations_out per sample. */
static double time_size(float *buffer, size_t count, double target, long *iterations_out)
{
    sum_in_place(buffer, count);
    MPI_Barrier(MPI_COMM_WORLD);
    double start = MPI_Wtime();
    sum_in_place(buffer, count);
    double one = MPI_Wtime() - start, slowest;
    MPI_Allreduce(&one, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);

    const int samples = slowest > target / 5 ? 3 : MAX_SAMPLES;
    long iterations = (long)(target / samples / (slowest > 1e-7 ? slowest : 1e-7));
    if (iterations < 1)
        iterations = 1;
    if (iterations > MAX_ITERATIONS)
        iterations = MAX_ITERATIONS;
    for (long w = 0; w < iterations && w < 5; ++w)
        sum_in_place(buffer, count);

    double per_call[MAX_SAMPLES];
    for (int s = 0; s < samples; ++s) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        for (long it = 0; it < iterations; ++it)
            sum_in_place(buffer, count);
        double mine = (MPI_Wtime() - t0) / (double)iterations, total;
        MPI_Allreduce(&mine, &total, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        per_call[s] = total / ranks;
    }
    qsort(per_call, (size_t)samples, sizeof per_call[0], by_value);
    *iterations_out = iterations;
    return per_call[samples / 2];
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    const size_t min_bytes = argc > 1 ? strtoull(argv[1], NULL, 0) : 4;
    const size_t max_bytes = argc > 2 ? strtoull(argv[2], NULL, 0) : (size_t)256 << 20;
    const double target = argc > 3 ? atof(argv[3]) : 0.2;
    if (min_bytes < sizeof(float) || max_bytes < min_bytes) {
        if (rank == 0)
            fprintf(stderr, "usage: mpi_allreduce [min_bytes >= 4] [max_bytes >= min_bytes] [target_seconds]\n");
        MPI_Finalize();
        return 2;
    }

    float *buffer = aligned_alloc(64, (max_bytes + 63) / 64 * 64);
    if (!buffer) {
        fprintf(stderr, "rank %d: out of memory\n", rank);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    memset(buffer, 0, max_bytes);

    if (rank == 0) {
        char version[MPI_MAX_LIBRARY_VERSION_STRING];
        int length;
        MPI_Get_library_version(version, &length);
        version[strcspn(version, "\n")] = '\0';
        printf("# %s\n", version);
        printf("# %d ranks, in-place MPI_Allreduce float sum, ~%.2f s per size, time = median sample of the rank-averaged time per call\n",
               ranks, target);
        printf("#%12s %12s %6s %6s %10s %8s %8s %7s %6s\n", "size(B)", "count", "type", "redop", "time(us)", "algbw", "busbw",
               "#wrong", "iters");
        fflush(stdout);
    }

    for (size_t bytes = min_bytes; bytes <= max_bytes; bytes *= 4) {
        const size_t count = bytes / sizeof(float);
        long wrong = count_wrong(buffer, count);
        memset(buffer, 0, bytes);
        long iterations;
        double t = time_size(buffer, count, target, &iterations);
        double algbw = (double)bytes / t / 1e9;
        if (rank == 0) {
            printf(" %12zu %12zu %6s %6s %10.2f %8.3f %8.3f %7ld %6ld\n", bytes, count, "float", "sum", t * 1e6, algbw,
                   algbw * 2.0 * (ranks - 1) / ranks, wrong, iterations);
            fflush(stdout);
        }
    }

    free(buffer);
    MPI_Finalize();
    return 0;
}
