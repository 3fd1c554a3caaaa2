/* Memory read-bandwidth probe (STREAM-like, read only): how many bytes per
 * second T threads can stream from DRAM, the ceiling for token generation,
 * which reads every weight once per token.
 *
 *   membw [-s MiB] [-t THREADS] [-r REPEATS] [--json]
 *
 * A buffer of -s MiB (default 1024, far larger than any cache) is filled,
 * then each thread sums its own contiguous slice with 16-byte vector loads
 * and 8 independent accumulators; the figure is the best of -r passes
 * (default 5), in GB/s (1e9 bytes per second), as STREAM reports. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint64_t v2u64 __attribute__((vector_size(16)));

typedef struct {
    const v2u64 *p;
    size_t n; /* vectors */
    uint64_t sum;
} slice;

static void *sum_slice(void *arg) {
    slice *s = arg;
    v2u64 a0 = {0, 0}, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    size_t i = 0;
    for (; i + 8 <= s->n; i += 8) {
        a0 += s->p[i];
        a1 += s->p[i + 1];
        a2 += s->p[i + 2];
        a3 += s->p[i + 3];
        a4 += s->p[i + 4];
        a5 += s->p[i + 5];
        a6 += s->p[i + 6];
        a7 += s->p[i + 7];
    }
    for (; i < s->n; i++) a0 += s->p[i];
    v2u64 t = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    s->sum = t[0] + t[1];
    return NULL;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    size_t mib = 1024;
    int threads = 1, repeats = 5, json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) mib = (size_t)atol(argv[++i]);
        else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) repeats = atoi(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0) json = 1;
        else {
            fprintf(stderr, "usage: membw [-s MiB] [-t THREADS] [-r REPEATS] [--json]\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (mib == 0 || threads < 1 || threads > 256 || repeats < 1) {
        fprintf(stderr, "membw: bad argument\n");
        return 2;
    }
    size_t bytes = mib << 20, nvec = bytes / sizeof(v2u64);
    v2u64 *buf = aligned_alloc(64, bytes);
    if (!buf) {
        fprintf(stderr, "membw: cannot allocate %zu MiB\n", mib);
        return 1;
    }
    /* Touch every page with data the compiler cannot predict. */
    for (size_t i = 0; i < nvec; i++) buf[i] = (v2u64){i * 0x9E3779B97F4A7C15ull, i};

    slice sl[256];
    pthread_t tid[256];
    double best = 0;
    uint64_t check = 0;
    for (int r = 0; r < repeats; r++) {
        size_t per = nvec / (size_t)threads;
        double t0 = now_s();
        for (int t = 0; t < threads; t++) {
            sl[t].p = buf + (size_t)t * per;
            sl[t].n = t == threads - 1 ? nvec - (size_t)t * per : per;
            if (t > 0 && pthread_create(&tid[t], NULL, sum_slice, &sl[t]) != 0) {
                fprintf(stderr, "membw: cannot start a thread\n");
                return 1;
            }
        }
        sum_slice(&sl[0]);
        for (int t = 1; t < threads; t++) pthread_join(tid[t], NULL);
        double gbs = (double)bytes / (now_s() - t0) / 1e9;
        if (gbs > best) best = gbs;
        for (int t = 0; t < threads; t++) check ^= sl[t].sum;
    }
    if (json)
        printf("{\"threads\": %d, \"mib\": %zu, \"read_gbs\": %.3f, \"check\": %llu}\n", threads,
               mib, best, (unsigned long long)(check & 0xFF));
    else
        printf("read bandwidth, %d thread(s), %zu MiB: %.2f GB/s (best of %d)\n", threads, mib,
               best, repeats);
    free(buf);
    return 0;
}
