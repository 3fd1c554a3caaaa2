/* The HTTP side of `llmkit serve`: a libmicrohttpd daemon (one thread per
 * connection, so a streamed answer can block on the scheduler) with routing,
 * the API key, CORS, the body-size limit and the error envelope. The model
 * loads after the daemon starts: until srv_http_set_backend, /health and the
 * API answer 503.
 *
 * Routes: GET /health, GET /v1/models, GET /metrics, GET / (the web chat),
 * POST /v1/chat/completions, POST /v1/completions (also without /v1). */
#ifndef LK_SERVER_HTTP_SERVER_H
#define LK_SERVER_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "llmkit.h"
#include "server/chat_prompt.h"
#include "server/metrics.h"
#include "server/scheduler.h"

typedef struct {
    const char *host;        /* address to bind; "127.0.0.1" by default */
    int port;                /* 0: any free port (see srv_http_port) */
    const char *api_key;     /* NULL: no key needed */
    const char *cors_origin; /* NULL: no CORS headers */
    size_t max_body;         /* request body limit in bytes */
    double timeout_s;        /* per-request time limit; <= 0: none */
    const char *model_id;    /* the name /v1/models lists and responses carry */
    int max_connections;
} srv_http_config;

/* What the API serves once the model has loaded; must outlive the daemon. */
typedef struct {
    const lk_tokenizer *tok;
    srv_sched *sched;
    const srv_chat_prompt *chat;
    int32_t n_ctx;   /* per slot */
    int32_t n_vocab;
} srv_backend;

typedef struct srv_http srv_http;

/* Copies cfg's strings. metrics must outlive the server. */
lk_status srv_http_start(const srv_http_config *cfg, srv_metrics *metrics, srv_http **out, lk_error *err);
/* The port it listens on (the chosen one when cfg->port was 0). */
int srv_http_port(const srv_http *h);
/* The model is ready: the API starts answering. b must outlive the server. */
void srv_http_set_backend(srv_http *h, const srv_backend *b);
/* Stops accepting, ends running streams, joins every connection thread. */
void srv_http_stop(srv_http *h);

#endif
