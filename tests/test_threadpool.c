/* Thread pool: every index visited exactly once over many shapes, edge cases
 * (n = 0, n < threads, NULL and 1-thread pools), many back-to-back runs
 * without deadlock, and pools created and freed in a loop. */
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "base/threadpool.h"
#include "test.h"

/* ---------------------------------------------------------------- parallel for */

struct visit {
    _Atomic int *count; /* [n] */
    int64_t grain, n;
    int n_threads;
    _Atomic int bad_chunk; /* a chunk below the grain that was not the whole range */
    _Atomic int bad_thread;
};

static void visit_range(void *p, int64_t begin, int64_t end, int thread_index) {
    struct visit *v = p;
    if (end - begin < v->grain && !(begin == 0 && end == v->n)) atomic_store(&v->bad_chunk, 1);
    if (thread_index < 0 || thread_index >= v->n_threads) atomic_store(&v->bad_thread, 1);
    for (int64_t i = begin; i < end; i++) atomic_fetch_add(&v->count[i], 1);
}

static void check_cover(lk_threadpool *tp, int64_t n, int64_t grain) {
    struct visit v = {.grain = grain, .n = n, .n_threads = lk_threadpool_size(tp)};
    v.count = calloc(n > 0 ? (size_t)n : 1, sizeof *v.count);
    lk_parallel_for(tp, n, grain, visit_range, &v);
    int wrong = 0;
    for (int64_t i = 0; i < n; i++) wrong += atomic_load(&v.count[i]) != 1;
    CHECK_MSG(wrong == 0, "threads=%d n=%lld grain=%lld: %d indices not visited once",
              v.n_threads, (long long)n, (long long)grain, wrong);
    CHECK_MSG(!atomic_load(&v.bad_chunk), "threads=%d n=%lld grain=%lld: chunk below grain",
              v.n_threads, (long long)n, (long long)grain);
    CHECK(!atomic_load(&v.bad_thread));
    free(v.count);
}

static void test_cover(void) {
    static const int64_t ns[] = {0, 1, 2, 3, 5, 7, 8, 16, 31, 100, 1000, 4097};
    static const int64_t grains[] = {-3, 0, 1, 2, 3, 7, 64, 5000};
    static const int threads[] = {1, 2, 3, 4, 7, 8};
    check_cover(NULL, 0, 1);
    check_cover(NULL, 10, 3);
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
        lk_error err;
        lk_threadpool *tp = NULL;
        CHECK_OK(lk_threadpool_new(threads[t], &tp, &err), &err);
        if (!tp) continue;
        CHECK_EQ_INT(lk_threadpool_size(tp), threads[t]);
        for (size_t i = 0; i < sizeof ns / sizeof *ns; i++)
            for (size_t g = 0; g < sizeof grains / sizeof *grains; g++)
                check_cover(tp, ns[i], grains[g]);
        lk_threadpool_free(tp);
    }
}

/* Chunks are contiguous and balanced: with 4 threads and n = 10 they are
 * 3,3,2,2 in order; with grain 4 only two chunks of 5. */
struct chunks {
    int64_t begin[8], end[8];
};

static void record_chunk(void *p, int64_t begin, int64_t end, int thread_index) {
    struct chunks *c = p;
    c->begin[thread_index] = begin;
    c->end[thread_index] = end;
}

static void test_split(void) {
    lk_error err;
    lk_threadpool *tp = NULL;
    CHECK_OK(lk_threadpool_new(4, &tp, &err), &err);
    struct chunks c;
    memset(&c, 0xff, sizeof c);
    lk_parallel_for(tp, 10, 1, record_chunk, &c);
    CHECK(c.begin[0] == 0 && c.end[0] == 3);
    CHECK(c.begin[1] == 3 && c.end[1] == 6);
    CHECK(c.begin[2] == 6 && c.end[2] == 8);
    CHECK(c.begin[3] == 8 && c.end[3] == 10);
    memset(&c, 0xff, sizeof c);
    lk_parallel_for(tp, 10, 4, record_chunk, &c);
    CHECK(c.begin[0] == 0 && c.end[0] == 5);
    CHECK(c.begin[1] == 5 && c.end[1] == 10);
    CHECK(c.begin[2] == -1 && c.begin[3] == -1); /* not called */
    /* Huge n: no overflow in the split arithmetic. */
    memset(&c, 0xff, sizeof c);
    lk_parallel_for(tp, INT64_MAX, 1, record_chunk, &c);
    CHECK(c.begin[0] == 0 && c.end[3] == INT64_MAX);
    CHECK(c.end[0] == c.begin[1] && c.end[1] == c.begin[2] && c.end[2] == c.begin[3]);
    lk_threadpool_free(tp);
}

/* ---------------------------------------------------------------- run */

struct tally {
    _Atomic int64_t calls;
    _Atomic int64_t index_sum;
    _Atomic int bad_n;
    int expect_n;
};

static void count_call(void *p, int thread_index, int n_threads) {
    struct tally *t = p;
    atomic_fetch_add(&t->calls, 1);
    atomic_fetch_add(&t->index_sum, thread_index);
    if (n_threads != t->expect_n) atomic_store(&t->bad_n, 1);
}

static void test_run(void) {
    struct tally t = {.expect_n = 1};
    lk_threadpool_run(NULL, count_call, &t);
    CHECK_EQ_INT(atomic_load(&t.calls), 1);
    CHECK_EQ_INT(lk_threadpool_size(NULL), 1);

    lk_error err;
    lk_threadpool *tp = NULL;
    CHECK_OK(lk_threadpool_new(1, &tp, &err), &err);
    struct tally one = {.expect_n = 1};
    lk_threadpool_run(tp, count_call, &one);
    CHECK_EQ_INT(atomic_load(&one.calls), 1);
    lk_threadpool_free(tp);

    CHECK_OK(lk_threadpool_new(0, &tp, &err), &err); /* one per CPU */
    CHECK(lk_threadpool_size(tp) >= 1);
    lk_threadpool_free(tp);
    lk_threadpool_free(NULL);

    CHECK(lk_threadpool_new(100000, &tp, &err) == LK_ERR_ARG && tp == NULL);
}

/* Back-to-back runs: the spin-then-sleep hand-off must never lose a wake-up.
 * Every few thousand runs the caller pauses long enough for the workers to
 * fall asleep, so both paths are exercised. The long series uses 2 threads
 * (a loaded 2-core CI machine makes wider pools slow, not wrong); a shorter
 * one oversubscribes with 4. */
static void many_runs(int n_threads, int runs) {
    lk_error err;
    lk_threadpool *tp = NULL;
    CHECK_OK(lk_threadpool_new(n_threads, &tp, &err), &err);
    if (!tp) return;
    struct tally t = {.expect_n = n_threads};
    for (int r = 0; r < runs; r++) {
        lk_threadpool_run(tp, count_call, &t);
        if (r % 5000 == 0) {
            struct timespec ts = {0, 200 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    CHECK_EQ_INT(atomic_load(&t.calls), (int64_t)runs * n_threads);
    CHECK_EQ_INT(atomic_load(&t.index_sum), (int64_t)runs * n_threads * (n_threads - 1) / 2);
    CHECK(!atomic_load(&t.bad_n));
    lk_threadpool_free(tp);
}

static void test_many_runs(void) {
    many_runs(2, 100000);
    many_runs(4, 10000);
}

static void test_create_free_loop(void) {
    for (int i = 0; i < 200; i++) {
        lk_error err;
        lk_threadpool *tp = NULL;
        CHECK_OK(lk_threadpool_new(1 + i % 5, &tp, &err), &err);
        struct tally t = {.expect_n = 1 + i % 5};
        if (i % 2) lk_threadpool_run(tp, count_call, &t); /* half are freed unused */
        lk_threadpool_free(tp);
        CHECK_EQ_INT(atomic_load(&t.calls), i % 2 ? 1 + i % 5 : 0);
    }
}

int main(void) {
    test_cover();
    test_split();
    test_run();
    test_many_runs();
    test_create_free_loop();
    return lk_test_finish("test_threadpool");
}
