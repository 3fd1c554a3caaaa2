/* Prometheus metrics; see metrics.h. */
#include "server/metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Latency buckets (seconds), shared by the three histograms. */
static const double k_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
#define N_BUCKETS (sizeof k_buckets / sizeof k_buckets[0])
#define N_STATUS 16

typedef struct {
    uint64_t counts[N_BUCKETS]; /* observations <= the bucket's bound (not cumulative here) */
    uint64_t n;
    double sum;
} histogram;

struct srv_metrics {
    pthread_mutex_t mu;
    int status[N_STATUS];
    uint64_t status_count[N_STATUS];
    histogram queue, prompt, generation;
    uint64_t generations;
};

srv_metrics *srv_metrics_new(void) {
    srv_metrics *m = calloc(1, sizeof *m);
    if (m) pthread_mutex_init(&m->mu, NULL);
    return m;
}

void srv_metrics_free(srv_metrics *m) {
    if (!m) return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void srv_metrics_http(srv_metrics *m, int status) {
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < N_STATUS; i++) {
        if (m->status[i] == status || m->status[i] == 0) {
            m->status[i] = status;
            m->status_count[i]++;
            break;
        }
    }
    pthread_mutex_unlock(&m->mu);
}

static void observe(histogram *h, double v) {
    for (size_t i = 0; i < N_BUCKETS; i++) {
        if (v <= k_buckets[i]) {
            h->counts[i]++;
            break;
        }
    }
    h->n++;
    h->sum += v;
}

void srv_metrics_request_done(srv_metrics *m, const srv_usage *u) {
    pthread_mutex_lock(&m->mu);
    observe(&m->queue, u->queue_s);
    observe(&m->prompt, u->prompt_s);
    observe(&m->generation, u->generation_s);
    m->generations++;
    pthread_mutex_unlock(&m->mu);
}

typedef struct {
    char *s;
    size_t len, cap;
    bool failed;
} text_buf;

static void put(text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text_buf *b, const char *fmt, ...) {
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = true;
            return;
        }
        b->s = s, b->cap = cap;
    }
}

static void put_histogram(text_buf *b, const char *name, const char *help, const histogram *h) {
    put(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (size_t i = 0; i < N_BUCKETS; i++) {
        cum += h->counts[i];
        put(b, "%s_bucket{le=\"%g\"} %llu\n", name, k_buckets[i], (unsigned long long)cum);
    }
    put(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name, (unsigned long long)h->n, name,
        h->sum, name, (unsigned long long)h->n);
}

static void put_metric(text_buf *b, const char *name, const char *type, const char *help, double v) {
    put(b, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

char *srv_metrics_render(srv_metrics *m, const srv_sched_stats *st, size_t *len) {
    text_buf b = {0};
    srv_sched_stats zero = {0};
    if (!st) st = &zero;
    pthread_mutex_lock(&m->mu);
    put(&b, "# HELP llmkit_http_requests_total HTTP responses sent, by status code.\n"
            "# TYPE llmkit_http_requests_total counter\n");
    for (int i = 0; i < N_STATUS && m->status[i]; i++)
        put(&b, "llmkit_http_requests_total{code=\"%d\"} %llu\n", m->status[i],
            (unsigned long long)m->status_count[i]);
    put_metric(&b, "llmkit_requests_finished_total", "counter", "Generations finished (one per choice).",
               (double)st->requests_finished);
    put_metric(&b, "llmkit_prompt_tokens_total", "counter", "Prompt tokens processed or reused.",
               (double)st->prompt_tokens);
    put_metric(&b, "llmkit_prompt_tokens_cached_total", "counter", "Prompt tokens reused from a slot's KV cache.",
               (double)st->cached_tokens);
    put_metric(&b, "llmkit_completion_tokens_total", "counter", "Tokens generated.", (double)st->completion_tokens);
    put_metric(&b, "llmkit_prompt_tokens_per_second", "gauge", "Prompt tokens evaluated per second of prompt processing.",
               st->prompt_s > 0 ? (double)(st->prompt_tokens - st->cached_tokens) / st->prompt_s : 0);
    put_metric(&b, "llmkit_generation_tokens_per_second", "gauge", "Tokens generated per second of generation, per request.",
               st->generation_s > 0 ? (double)st->completion_tokens / st->generation_s : 0);
    put_metric(&b, "llmkit_decode_steps_total", "counter", "Batched decode passes (one forward pass for every generating slot).",
               (double)st->decode_steps);
    put_metric(&b, "llmkit_decode_rows_total", "counter", "Sequences decoded in those passes (rows / steps = mean batch).",
               (double)st->decode_rows);
    put_metric(&b, "llmkit_queue_depth", "gauge", "Requests waiting for a slot.", st->queued);
    put_metric(&b, "llmkit_slots_busy", "gauge", "Slots serving a request.", st->busy_slots);
    put_metric(&b, "llmkit_slots_total", "gauge", "Slots (--parallel).", st->n_slots);
    put_histogram(&b, "llmkit_queue_seconds", "Time from arrival to a free slot.", &m->queue);
    put_histogram(&b, "llmkit_prompt_seconds", "Prompt processing time (slot to first token).", &m->prompt);
    put_histogram(&b, "llmkit_generation_seconds", "Generation time (first token to the end).", &m->generation);
    pthread_mutex_unlock(&m->mu);
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    *len = b.len;
    return b.s;
}
