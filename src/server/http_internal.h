/* What http_server.c (daemon, routing) shares with openai_handlers.c (the
 * generation endpoints). Not for use outside src/server/. */
#ifndef LK_SERVER_HTTP_INTERNAL_H
#define LK_SERVER_HTTP_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

#include "server/http_server.h"
#include "server/openai_request.h"

struct srv_http {
    struct MHD_Daemon *daemon;
    srv_metrics *metrics;
    _Atomic(const srv_backend *) backend; /* NULL while the model loads */
    atomic_bool stopping;
    char *host, *api_key, *cors_origin, *model_id;
    size_t max_body;
    double timeout_s;
    long long started; /* Unix seconds, the model's "created" */
    int port;
};

/* Adds the CORS headers (when --cors) to a response. */
void srv_http_add_cors(const srv_http *h, struct MHD_Response *r);
/* Queues a response of len bytes (copied) with status and content type,
 * counting it in the metrics. */
enum MHD_Result srv_http_reply(srv_http *h, struct MHD_Connection *c, unsigned status, const char *type,
                               const char *body, size_t len);
/* Queues an OpenAI error envelope. */
enum MHD_Result srv_http_error(srv_http *h, struct MHD_Connection *c, unsigned status, const char *message,
                               const char *type, const char *param, const char *code);
/* True when the client has closed the connection (or it broke). */
bool srv_http_client_gone(struct MHD_Connection *c);

/* POST /v1/chat/completions and /v1/completions. */
enum MHD_Result srv_handle_generation(srv_http *h, const srv_backend *b, struct MHD_Connection *c, srv_api api,
                                      const char *body, size_t len);

#endif
