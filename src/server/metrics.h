/* The server's counters for GET /metrics, in Prometheus text format:
 * HTTP requests by status, tokens in and out, tokens/s, queue depth, busy
 * slots, and histograms of queue, prompt and generation latency per
 * request. Thread-safe: every connection thread records into one srv_metrics. */
#ifndef LK_SERVER_METRICS_H
#define LK_SERVER_METRICS_H

#include <stddef.h>

#include "server/scheduler.h"

typedef struct srv_metrics srv_metrics;

srv_metrics *srv_metrics_new(void);
void srv_metrics_free(srv_metrics *m);

/* An HTTP response sent with this status. */
void srv_metrics_http(srv_metrics *m, int status);
/* A generation that finished (each choice counts). */
void srv_metrics_request_done(srv_metrics *m, const srv_usage *u);

/* The exposition text (malloc'd); stats NULL while the model loads. */
char *srv_metrics_render(srv_metrics *m, const srv_sched_stats *stats, size_t *len);

#endif
