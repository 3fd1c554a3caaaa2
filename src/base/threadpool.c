/* Thread pool: n-1 parked workers plus the calling thread.
 *
 * Design note. A run publishes (fn, ctx), sets `pending` to the number of
 * workers and bumps the atomic `generation`. Each worker remembers the last
 * generation it served; it spins on the counter (with a pause instruction)
 * for about LK_SPIN_NS, then sleeps on a condition variable. The caller runs
 * its own share as thread 0, then spins until `pending` reaches zero
 * (yielding the CPU after a few microseconds, so a worker that shares its core
 * on an oversubscribed machine still gets to run). Every worker serves every generation, so the next run can only
 * start after all workers have read (fn, ctx) and finished with them.
 *
 * Lost wake-ups are avoided by a Dekker-style pair of sequentially
 * consistent operations: a worker that is about to sleep increments
 * `sleepers` and then re-reads `generation` (under the mutex); the caller
 * bumps `generation` and then reads `sleepers`, taking the mutex to broadcast
 * only when someone may be asleep. One of the two must see the other's write,
 * so a fast run with spinning workers never touches the mutex.
 *
 * Left out on purpose: work stealing, nested runs, per-run thread counts. */
#include "base/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define lk_cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define lk_cpu_relax() __asm__ __volatile__("yield")
#else
#define lk_cpu_relax() ((void)0)
#endif

enum {
    LK_SPIN_NS = 50 * 1000,     /* how long an idle worker spins before sleeping */
    LK_YIELD_AFTER_NS = 4000,   /* spinning longer than this also yields the CPU */
    LK_MAX_THREADS = 1024,      /* more is surely a mistake in the caller */
};

struct lk_threadpool {
    int n_threads; /* including the caller */
    pthread_t *workers; /* [n_threads - 1] */
    struct worker_arg *args; /* [n_threads - 1] */

    /* The current job, written by the caller before the generation bump
     * (release) and read by workers after seeing it (acquire). */
    lk_thread_fn fn;
    void *ctx;

    _Atomic unsigned generation;
    _Atomic int pending; /* workers that have not finished this generation */
    _Atomic int stop;
    _Atomic int sleepers;

    pthread_mutex_t mutex;
    pthread_cond_t wake;
};

struct worker_arg {
    lk_threadpool *tp;
    int index; /* 1..n_threads-1 */
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Waits until the generation differs from `seen`; returns the new value. */
static unsigned wait_for_work(lk_threadpool *tp, unsigned seen) {
    unsigned g = atomic_load_explicit(&tp->generation, memory_order_acquire);
    if (g != seen) return g;
    uint64_t start = now_ns();
    for (unsigned spins = 1;; spins++) {
        lk_cpu_relax();
        g = atomic_load_explicit(&tp->generation, memory_order_acquire);
        if (g != seen) return g;
        /* Reading the clock costs ~20 ns; do it only every 64 pauses. */
        if (spins % 64 != 0) continue;
        uint64_t elapsed = now_ns() - start;
        if (elapsed > LK_SPIN_NS) break;
        /* The caller may be waiting for our core (oversubscribed machine). */
        if (elapsed > LK_YIELD_AFTER_NS) sched_yield();
    }
    pthread_mutex_lock(&tp->mutex);
    atomic_fetch_add(&tp->sleepers, 1); /* seq_cst: pairs with the caller's bump */
    while ((g = atomic_load(&tp->generation)) == seen) pthread_cond_wait(&tp->wake, &tp->mutex);
    atomic_fetch_sub(&tp->sleepers, 1);
    pthread_mutex_unlock(&tp->mutex);
    return g;
}

static void *worker_main(void *p) {
    struct worker_arg *arg = p;
    lk_threadpool *tp = arg->tp;
    unsigned seen = 0; /* the pool starts at generation 0 */
    for (;;) {
        seen = wait_for_work(tp, seen);
        if (atomic_load_explicit(&tp->stop, memory_order_relaxed)) break;
        tp->fn(tp->ctx, arg->index, tp->n_threads);
        atomic_fetch_sub_explicit(&tp->pending, 1, memory_order_release);
    }
    return NULL;
}

/* Bumps the generation and wakes sleeping workers, if any. */
static void publish(lk_threadpool *tp) {
    atomic_fetch_add(&tp->generation, 1); /* seq_cst: pairs with sleepers++ */
    if (atomic_load(&tp->sleepers) > 0) {
        pthread_mutex_lock(&tp->mutex);
        pthread_cond_broadcast(&tp->wake);
        pthread_mutex_unlock(&tp->mutex);
    }
}

static void stop_and_join(lk_threadpool *tp, int n_started) {
    atomic_store(&tp->stop, 1);
    publish(tp);
    for (int i = 0; i < n_started; i++) pthread_join(tp->workers[i], NULL);
}

lk_status lk_threadpool_new(int n_threads, lk_threadpool **out, lk_error *err) {
    *out = NULL;
    if (n_threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = n < 1 ? 1 : n > LK_MAX_THREADS ? LK_MAX_THREADS : (int)n;
    }
    if (n_threads > LK_MAX_THREADS)
        return lk_error_set(err, LK_ERR_ARG, "thread pool: %d threads requested, at most %d",
                            n_threads, LK_MAX_THREADS);
    lk_threadpool *tp = calloc(1, sizeof *tp);
    if (!tp) return lk_error_set(err, LK_ERR_NOMEM, "thread pool: out of memory");
    tp->n_threads = n_threads;
    int n_workers = n_threads - 1;
    if (n_workers > 0) {
        tp->workers = calloc((size_t)n_workers, sizeof *tp->workers);
        tp->args = calloc((size_t)n_workers, sizeof *tp->args);
        if (!tp->workers || !tp->args) {
            free(tp->workers);
            free(tp->args);
            free(tp);
            return lk_error_set(err, LK_ERR_NOMEM, "thread pool: out of memory");
        }
    }
    pthread_mutex_init(&tp->mutex, NULL);
    pthread_cond_init(&tp->wake, NULL);
    for (int i = 0; i < n_workers; i++) {
        tp->args[i] = (struct worker_arg){tp, i + 1};
        int rc = pthread_create(&tp->workers[i], NULL, worker_main, &tp->args[i]);
        if (rc != 0) {
            stop_and_join(tp, i);
            pthread_cond_destroy(&tp->wake);
            pthread_mutex_destroy(&tp->mutex);
            free(tp->workers);
            free(tp->args);
            free(tp);
            return lk_error_set(err, LK_ERR_INTERNAL,
                                "thread pool: cannot start thread %d of %d: %s", i + 2,
                                n_threads, strerror(rc));
        }
    }
    *out = tp;
    return LK_OK;
}

void lk_threadpool_free(lk_threadpool *tp) {
    if (!tp) return;
    stop_and_join(tp, tp->n_threads - 1);
    pthread_cond_destroy(&tp->wake);
    pthread_mutex_destroy(&tp->mutex);
    free(tp->workers);
    free(tp->args);
    free(tp);
}

int lk_threadpool_size(const lk_threadpool *tp) { return tp ? tp->n_threads : 1; }

/* Spins until every worker has finished. A worker still busy after a few
 * microseconds may be sharing our core (an oversubscribed machine), so from
 * then on the caller also yields; with a core to itself, the yield returns at
 * once. */
static void wait_for_workers(lk_threadpool *tp) {
    uint64_t yield_after = 0;
    for (unsigned spins = 1; atomic_load_explicit(&tp->pending, memory_order_acquire) > 0;
         spins++) {
        lk_cpu_relax();
        if (spins % 64 != 0) continue;
        uint64_t t = now_ns();
        if (!yield_after) yield_after = t + LK_YIELD_AFTER_NS;
        else if (t > yield_after) sched_yield();
    }
}

void lk_threadpool_run(lk_threadpool *tp, lk_thread_fn fn, void *ctx) {
    if (!tp || tp->n_threads == 1) {
        fn(ctx, 0, 1);
        return;
    }
    tp->fn = fn;
    tp->ctx = ctx;
    atomic_store_explicit(&tp->pending, tp->n_threads - 1, memory_order_relaxed);
    publish(tp); /* its seq_cst bump also releases fn, ctx and pending */
    fn(ctx, 0, tp->n_threads);
    wait_for_workers(tp);
}

/* ---------------------------------------------------------------- parallel for */

struct range_job {
    int64_t n;
    int n_chunks;
    lk_range_fn fn;
    void *ctx;
};

static void run_chunk(void *p, int thread_index, int n_threads) {
    const struct range_job *job = p;
    if (thread_index >= job->n_chunks) return;
    /* Chunk i is [i*base + min(i, rem), ...): sizes differ by at most one,
     * and no product can overflow. */
    int64_t base = job->n / job->n_chunks, rem = job->n % job->n_chunks;
    int64_t i = thread_index;
    int64_t begin = i * base + (i < rem ? i : rem);
    int64_t end = begin + base + (i < rem ? 1 : 0);
    job->fn(job->ctx, begin, end, thread_index);
}

void lk_parallel_for(lk_threadpool *tp, int64_t n, int64_t grain, lk_range_fn fn, void *ctx) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    /* As many chunks as threads, but none smaller than the grain. */
    int64_t n_chunks = n / grain;
    int n_threads = lk_threadpool_size(tp);
    if (n_chunks > n_threads) n_chunks = n_threads;
    if (n_chunks <= 1) {
        fn(ctx, 0, n, 0);
        return;
    }
    struct range_job job = {n, (int)n_chunks, fn, ctx};
    lk_threadpool_run(tp, run_chunk, &job);
}
