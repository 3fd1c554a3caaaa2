/* The server's HTTP daemon and routing; see http_server.h. */
#include "server/http_server.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/error.h"
#include "base/log.h"
#include "server/http_internal.h"
#include "server/openai_response.h"
#include "server/web_page.h"

/* One request's body as it arrives. */
typedef struct {
    char *body;
    size_t len, cap;
    bool too_large;
} upload;

void srv_http_add_cors(const srv_http *h, struct MHD_Response *r) {
    if (!h->cors_origin) return;
    MHD_add_response_header(r, "Access-Control-Allow-Origin", h->cors_origin);
    MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    MHD_add_response_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type");
    MHD_add_response_header(r, "Access-Control-Max-Age", "600");
    if (strcmp(h->cors_origin, "*") != 0) MHD_add_response_header(r, "Vary", "Origin");
}

enum MHD_Result srv_http_reply(srv_http *h, struct MHD_Connection *c, unsigned status, const char *type,
                               const char *body, size_t len) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    if (type) MHD_add_response_header(r, "Content-Type", type);
    srv_http_add_cors(h, r);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    srv_metrics_http(h->metrics, (int)status);
    return ret;
}

enum MHD_Result srv_http_error(srv_http *h, struct MHD_Connection *c, unsigned status, const char *message,
                               const char *type, const char *param, const char *code) {
    char *json = srv_json_error(message, type, param, code);
    if (!json) return MHD_NO;
    enum MHD_Result r = srv_http_reply(h, c, status, "application/json", json, strlen(json));
    free(json);
    return r;
}

bool srv_http_client_gone(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return true;
    char byte;
    ssize_t n = recv(ci->connect_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true; /* orderly close */
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;
    return false;
}

/* Compares the whole key whatever the guess, so the time taken says
 * nothing about how much of it was right. */
static bool key_matches(const char *key, const char *given, size_t given_len) {
    size_t key_len = strlen(key);
    unsigned diff = (unsigned)(key_len != given_len);
    for (size_t i = 0; i < key_len; i++)
        diff |= (unsigned char)key[i] ^ (unsigned char)(i < given_len ? given[i] : 0);
    return diff == 0;
}

static bool authorized(const srv_http *h, struct MHD_Connection *c) {
    if (!h->api_key) return true;
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0) return false;
    const char *given = auth + 7;
    while (*given == ' ') given++;
    return key_matches(h->api_key, given, strlen(given));
}

static enum MHD_Result reply_health(srv_http *h, struct MHD_Connection *c, const srv_backend *b) {
    if (!b)
        return srv_http_error(h, c, 503, "the model is still loading", "unavailable_error", NULL, "model_loading");
    static const char ok[] = "{\"status\":\"ok\"}";
    return srv_http_reply(h, c, 200, "application/json", ok, sizeof ok - 1);
}

static enum MHD_Result reply_metrics(srv_http *h, struct MHD_Connection *c, const srv_backend *b) {
    srv_sched_stats st;
    if (b) srv_sched_get_stats(b->sched, &st);
    size_t len = 0;
    char *text = srv_metrics_render(h->metrics, b ? &st : NULL, &len);
    if (!text) return srv_http_error(h, c, 500, "out of memory", "server_error", NULL, NULL);
    enum MHD_Result r = srv_http_reply(h, c, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
    return r;
}

static enum MHD_Result reply_models(srv_http *h, struct MHD_Connection *c, const srv_backend *b) {
    char *json = srv_json_models(h->model_id, h->started, b ? b->n_ctx : 0);
    if (!json) return srv_http_error(h, c, 500, "out of memory", "server_error", NULL, NULL);
    enum MHD_Result r = srv_http_reply(h, c, 200, "application/json", json, strlen(json));
    free(json);
    return r;
}

/* A CORS preflight: the headers the page asks to send are allowed too (the
 * openai client sends several of its own). */
static enum MHD_Result reply_preflight(srv_http *h, struct MHD_Connection *c) {
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    srv_http_add_cors(h, r);
    const char *asked = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Access-Control-Request-Headers");
    if (asked && *asked) {
        MHD_del_response_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type");
        MHD_add_response_header(r, "Access-Control-Allow-Headers", asked);
    }
    enum MHD_Result ret = MHD_queue_response(c, 204, r);
    MHD_destroy_response(r);
    srv_metrics_http(h->metrics, 204);
    return ret;
}

static bool is_path(const char *url, const char *path) {
    /* "/v1/models" also as "/models", as OpenAI-style clients vary */
    return !strcmp(url, path) || (!strncmp(path, "/v1/", 4) && !strcmp(url, path + 3));
}

static enum MHD_Result route(srv_http *h, struct MHD_Connection *c, const char *url, const char *method,
                             const upload *up) {
    const srv_backend *b = atomic_load(&h->backend);
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    bool is_chat = is_path(url, "/v1/chat/completions"), is_completion = is_path(url, "/v1/completions");
    bool is_models = is_path(url, "/v1/models");
    bool known = !strcmp(url, "/") || !strcmp(url, "/health") || !strcmp(url, "/metrics") || is_models ||
                 is_chat || is_completion;

    if (!strcmp(method, "OPTIONS") && h->cors_origin && known) return reply_preflight(h, c);
    if (!known) {
        char msg[512];
        snprintf(msg, sizeof msg, "unknown route %s %.400s", method, url);
        return srv_http_error(h, c, 404, msg, "invalid_request_error", NULL, "not_found");
    }
    bool wants_post = is_chat || is_completion;
    if ((wants_post && !post) || (!wants_post && !get)) {
        char msg[512];
        snprintf(msg, sizeof msg, "%.400s takes %s, not %s", url, wants_post ? "POST" : "GET", method);
        return srv_http_error(h, c, 405, msg, "invalid_request_error", NULL, "method_not_allowed");
    }
    if (!strcmp(url, "/health")) return reply_health(h, c, b);
    if (!strcmp(url, "/")) {
        size_t len;
        const char *page = srv_web_page(&len);
        return srv_http_reply(h, c, 200, "text/html; charset=utf-8", page, len);
    }
    if (!authorized(h, c))
        return srv_http_error(h, c, 401, "missing or wrong API key (send the header Authorization: Bearer KEY)",
                              "invalid_request_error", NULL, "invalid_api_key");
    if (!strcmp(url, "/metrics")) return reply_metrics(h, c, b);
    if (is_models) return reply_models(h, c, b);
    if (up->too_large) {
        char msg[160];
        snprintf(msg, sizeof msg, "the request body is larger than the limit of %zu bytes", h->max_body);
        return srv_http_error(h, c, 413, msg, "invalid_request_error", NULL, "request_too_large");
    }
    if (!b)
        return srv_http_error(h, c, 503, "the model is still loading", "unavailable_error", NULL, "model_loading");
    return srv_handle_generation(h, b, c, is_chat ? SRV_API_CHAT : SRV_API_COMPLETION, up->body ? up->body : "",
                                 up->len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *data_size, void **state) {
    (void)version;
    srv_http *h = cls;
    upload *up = *state;
    if (!up) {
        up = calloc(1, sizeof *up);
        if (!up) return MHD_NO;
        *state = up;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > h->max_body) up->too_large = true;
        return MHD_YES;
    }
    if (*data_size) {
        /* a body over the limit is read and dropped, then refused whole */
        if (!up->too_large && up->len + *data_size > h->max_body) up->too_large = true;
        if (!up->too_large) {
            if (up->len + *data_size + 1 > up->cap) {
                size_t cap = (up->len + *data_size + 1) * 2;
                if (cap > h->max_body + 1) cap = h->max_body + 1;
                char *b = realloc(up->body, cap);
                if (!b) return MHD_NO;
                up->body = b, up->cap = cap;
            }
            memcpy(up->body + up->len, data, *data_size);
            up->len += *data_size;
            up->body[up->len] = '\0';
        }
        *data_size = 0;
        return MHD_YES;
    }
    return route(h, c, url, method, up);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode tc) {
    (void)cls, (void)c, (void)tc;
    upload *up = *state;
    if (up) free(up->body);
    free(up);
    *state = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = '\0';
    lk_log(LK_LOG_INFO, "http: %s", msg);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

lk_status srv_http_start(const srv_http_config *cfg, srv_metrics *metrics, srv_http **out, lk_error *err) {
    *out = NULL;
    const char *host = cfg->host ? cfg->host : "127.0.0.1";
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", cfg->port);
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0) return lk_error_set(err, LK_ERR_ARG, "cannot use host '%s': %s", host, gai_strerror(gai));

    srv_http *h = calloc(1, sizeof *h);
    if (!h) {
        freeaddrinfo(ai);
        return lk_error_set(err, LK_ERR_NOMEM, "out of memory");
    }
    h->metrics = metrics;
    h->host = strdup(host);
    h->api_key = dup_or_null(cfg->api_key);
    h->cors_origin = dup_or_null(cfg->cors_origin);
    h->model_id = strdup(cfg->model_id ? cfg->model_id : "model");
    h->max_body = cfg->max_body;
    h->timeout_s = cfg->timeout_s;
    h->started = (long long)time(NULL);
    atomic_init(&h->backend, NULL);
    atomic_init(&h->stopping, false);

    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, h, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(cfg->max_connections > 0 ? cfg->max_connections : 256), MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)120, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!h->daemon) {
        lk_error_set(err, LK_ERR_IO, "cannot listen on %s port %d (in use, or not an address of this machine?)",
                     host, cfg->port);
        srv_http_stop(h);
        return err->code;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : cfg->port;
    *out = h;
    return LK_OK;
}

int srv_http_port(const srv_http *h) { return h->port; }

void srv_http_set_backend(srv_http *h, const srv_backend *b) { atomic_store(&h->backend, b); }

void srv_http_stop(srv_http *h) {
    if (!h) return;
    atomic_store(&h->stopping, true);
    if (h->daemon) MHD_stop_daemon(h->daemon);
    free(h->host);
    free(h->api_key);
    free(h->cors_origin);
    free(h->model_id);
    free(h);
}
