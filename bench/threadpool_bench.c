/* Measures the dispatch cost of the thread pool: the wall time of an empty
 * lk_threadpool_run (wake every worker, wait for all), with 1, 2 and all
 * threads. Prints the median and 90th percentile in microseconds.
 *
 *   build/threadpool_bench [runs]      (default 20000 runs per pool size) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "base/threadpool.h"

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void empty(void *ctx, int thread_index, int n_threads) {}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int bench(int n_threads, int runs) {
    lk_error err;
    lk_threadpool *tp;
    if (lk_threadpool_new(n_threads, &tp, &err) != LK_OK) {
        fprintf(stderr, "threadpool_bench: %s\n", err.msg);
        return 1;
    }
    double *t = malloc((size_t)runs * sizeof *t);
    if (!t) return 1;
    for (int i = 0; i < 1000; i++) lk_threadpool_run(tp, empty, NULL); /* warm up */
    for (int i = 0; i < runs; i++) {
        double t0 = now_us();
        lk_threadpool_run(tp, empty, NULL);
        t[i] = now_us() - t0;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    printf("threads %3d: median %7.2f us   p90 %7.2f us   (%d runs)\n", lk_threadpool_size(tp),
           t[runs / 2], t[runs * 9 / 10], runs);
    free(t);
    lk_threadpool_free(tp);
    return 0;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 20000;
    if (runs < 10) runs = 10;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    printf("online CPUs: %ld\n", cpus);
    int rc = bench(1, runs) | bench(2, runs);
    if (cpus > 2) rc |= bench(0, runs);
    return rc;
}
