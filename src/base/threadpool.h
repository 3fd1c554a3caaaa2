/* A thread pool with a low-latency parallel-for. The forward pass runs
 * kernels through it several hundred times per generated token, so dispatch
 * must cost a few microseconds: workers spin briefly on an atomic generation
 * counter before falling back to sleeping on a condition variable.
 *
 * The calling thread takes part as thread 0, so a pool of n threads starts
 * n-1 workers. A NULL pool means "run on the caller alone". */
#ifndef LK_BASE_THREADPOOL_H
#define LK_BASE_THREADPOOL_H

#include <stdint.h>

#include "llmkit.h"

typedef struct lk_threadpool lk_threadpool;

/* n_threads <= 0 means one per online CPU. */
lk_status lk_threadpool_new(int n_threads, lk_threadpool **out, lk_error *err);
void lk_threadpool_free(lk_threadpool *tp);
int lk_threadpool_size(const lk_threadpool *tp); /* 1 for NULL */

/* Runs fn(ctx, i, n) once on each of the n threads (i = 0..n-1, the caller is
 * 0) and returns when all have finished. Not reentrant: one run at a time. */
typedef void (*lk_thread_fn)(void *ctx, int thread_index, int n_threads);
void lk_threadpool_run(lk_threadpool *tp, lk_thread_fn fn, void *ctx);

/* Splits [0, n) into contiguous chunks of at least `grain` items and calls
 * fn(ctx, begin, end, thread_index) for each; returns when all are done. */
typedef void (*lk_range_fn)(void *ctx, int64_t begin, int64_t end, int thread_index);
void lk_parallel_for(lk_threadpool *tp, int64_t n, int64_t grain, lk_range_fn fn, void *ctx);

#endif
