/* `llmkit serve MODEL`: the OpenAI-compatible HTTP server.
 *
 * The daemon starts first and answers /health with 503 while a background
 * thread loads the model, tokenizer and chat template and starts the
 * scheduler; then the API opens. SIGINT or SIGTERM stop it: no new
 * connections, running answers end, threads joined, everything freed. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/mmap.h"
#include "chat/builtin_formats.h"
#include "commands.h"
#include "gen_options.h"
#include "server/chat_prompt.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/scheduler.h"

typedef struct {
    const char *model, *host, *api_key, *api_key_file, *cors, *alias, *template_file, *format;
    long port, parallel, ctx_size, threads, max_queue, max_body;
    bool no_repack;
    double timeout_s;
    lk_dtype kv_type;
} serve_args;

static void usage(FILE *out) {
    fprintf(out,
            "usage: llmkit serve [MODEL] [options]\n"
            "\n"
            "An OpenAI-compatible HTTP server: GET /v1/models, POST /v1/chat/completions and\n"
            "/v1/completions (streamed with \"stream\": true), GET /health (503 while the\n"
            "model loads), GET /metrics (Prometheus), GET / (web chat). See docs/http-api.md.\n"
            "\n"
            "  MODEL                 a GGUF file, an HF model directory, or a repo id in the\n"
            "                        store; without MODEL, the default model\n"
            "  --host ADDR           address to listen on (default 127.0.0.1: this machine only)\n"
            "  --port N              port (default 8080; 0: any free port, printed at start)\n"
            "  --parallel N, -np N   requests decoded together, one slot each (default 4)\n"
            "  -c, --ctx-size N      context (KV positions) per slot (default: the model's,\n"
            "                        capped to fit in memory)\n"
            "  --api-key KEY         require \"Authorization: Bearer KEY\" (not for /health, /)\n"
            "  --api-key-file FILE   the same, the key read from FILE's first line\n"
            "  --cors ORIGIN         allow browsers from ORIGIN (or *) to call the API\n"
            "                        (default: no CORS headers)\n"
            "  --alias NAME          the model name /v1/models lists (default: the file name)\n"
            "  -t, --threads N       threads for evaluation (default: one per CPU)\n"
            "  --timeout SECONDS     per-request time limit; the answer ends with\n"
            "                        finish_reason \"length\" (default 600; 0: none)\n"
            "  --max-body BYTES      request body limit, 413 above it (default 8388608)\n"
            "  --max-queue N         requests waiting for a slot before 503 (default 64)\n"
            "  --kv-type f16|f32     KV cache element type (default f16)\n"
            "  --no-repack           multiply Q4_0/Q5_0/Q8_0/Q4_K weights as stored, not from the packed\n"
            "                        copy made at load time for the faster kernels\n"
            "  --chat-template FILE  chat template (.jinja, tokenizer_config.json, GGUF) instead\n"
            "                        of the model's own\n"
            "  --chat-format NAME    a built-in chat format instead of the model's template\n"
            "                        (models without one get chatml):");
    for (size_t i = 0; lk_chat_format_at(i); i++) fprintf(out, " %s", lk_chat_format_at(i)->name);
    fprintf(out, "\n");
}

static int need_long(const char *o, const char *v, long lo, long hi, long *out) {
    if (!v || !cli_parse_long(v, lo, hi, out)) {
        cli_error("serve: %s needs a whole number in %ld..%ld", o, lo, hi);
        return 2;
    }
    return 0;
}

static int parse_args(int argc, char **argv, serve_args *a) {
    memset(a, 0, sizeof *a);
    a->host = "127.0.0.1";
    a->port = 8080;
    a->parallel = 4;
    a->max_queue = 64;
    a->max_body = 8L << 20;
    a->timeout_s = 600;
    a->kv_type = LK_DTYPE_F16;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        const char **str = NULL;
        long *num = NULL, lo = 0, hi = 0;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(o, "--host")) str = &a->host;
        else if (!strcmp(o, "--api-key")) str = &a->api_key;
        else if (!strcmp(o, "--api-key-file")) str = &a->api_key_file;
        else if (!strcmp(o, "--cors")) str = &a->cors;
        else if (!strcmp(o, "--alias")) str = &a->alias;
        else if (!strcmp(o, "--chat-template")) str = &a->template_file;
        else if (!strcmp(o, "--chat-format")) str = &a->format;
        else if (!strcmp(o, "--port")) num = &a->port, lo = 0, hi = 65535;
        else if (!strcmp(o, "--parallel") || !strcmp(o, "-np")) num = &a->parallel, lo = 1, hi = 256;
        else if (!strcmp(o, "--ctx-size") || !strcmp(o, "-c")) num = &a->ctx_size, lo = 0, hi = 1L << 24;
        else if (!strcmp(o, "--threads") || !strcmp(o, "-t")) num = &a->threads, lo = 0, hi = 4096;
        else if (!strcmp(o, "--max-queue")) num = &a->max_queue, lo = 0, hi = 1L << 20;
        else if (!strcmp(o, "--max-body")) num = &a->max_body, lo = 1024, hi = 1L << 30;
        else if (!strcmp(o, "--timeout")) {
            long t;
            if ((rc = need_long(o, v, 0, 1L << 30, &t))) return rc;
            a->timeout_s = (double)t;
            i++;
            continue;
        } else if (!strcmp(o, "--no-repack")) {
            a->no_repack = true;
            continue;
        } else if (!strcmp(o, "--kv-type")) {
            if (!v || (strcmp(v, "f16") && strcmp(v, "f32"))) {
                cli_error("serve: --kv-type takes f16 or f32");
                return 2;
            }
            a->kv_type = !strcmp(v, "f32") ? LK_DTYPE_F32 : LK_DTYPE_F16;
            i++;
            continue;
        } else if (o[0] == '-' && o[1]) {
            cli_error("serve: unknown option %s (see llmkit serve --help)", o);
            return 2;
        } else if (!a->model) {
            a->model = o;
            continue;
        } else {
            cli_error("serve: unexpected argument '%s'", o);
            return 2;
        }
        if (str) {
            if (!v) {
                cli_error("serve: %s needs a value", o);
                return 2;
            }
            *str = v;
        } else if ((rc = need_long(o, v, lo, hi, num))) {
            return rc;
        }
        i++;
    }
    if (a->api_key && a->api_key_file) {
        cli_error("serve: give --api-key or --api-key-file, not both");
        return 2;
    }
    if (a->template_file && a->format) {
        cli_error("serve: give --chat-template or --chat-format, not both");
        return 2;
    }
    if (a->format && !lk_chat_format_find(a->format)) {
        cli_error("serve: unknown --chat-format '%s' (see llmkit serve --help)", a->format);
        return 2;
    }
    return -1;
}

/* The key from the first line of a file, surrounding blanks dropped. */
static char *read_key_file(const char *path) {
    lk_error err = {0};
    char *text = NULL;
    size_t n = 0;
    if (lk_read_file(path, 1 << 16, &text, &n, &err) != LK_OK) {
        cli_fail(&err);
        return NULL;
    }
    char *s = text;
    while (*s == ' ' || *s == '\t') s++;
    size_t len = strcspn(s, "\r\n");
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
    char *key = len ? strndup(s, len) : NULL;
    free(text);
    if (!len) cli_error("serve: %s holds no key on its first line", path);
    return key;
}

/* ------------------------------------------------------------ loading */

typedef struct {
    const serve_args *a;
    srv_http *http;
    lk_model_file *mf;
    lk_model *m;
    lk_tokenizer *tok;
    srv_chat_prompt *chat;
    srv_sched *sched;
    srv_backend backend;
    lk_error err;
    bool failed;
} server_state;

static void *load_model(void *arg) {
    server_state *s = arg;
    const serve_args *a = s->a;
    lk_error *err = &s->err;
    double t0 = cli_now();
    if (lk_model_file_open(a->model, &s->mf, err) != LK_OK) goto fail;
    if (lk_model_file_format(s->mf) == LK_FORMAT_LLAMA2C) {
        lk_error_set(err, LK_ERR_UNSUPPORTED, "%s is a llama2.c checkpoint, which holds no tokenizer: serve "
                                              "needs a GGUF or an HF model directory", a->model);
        goto fail;
    }
    if (lk_tokenizer_load(a->model, &s->tok, err) != LK_OK) goto fail;
    if (srv_chat_prompt_new(a->model, s->mf, a->template_file, a->format, &s->chat, err) != LK_OK) goto fail;
    lk_model_params mp;
    lk_model_params_default(&mp);
    mp.n_threads = (int32_t)a->threads;
    mp.no_repack = a->no_repack;
    if (lk_model_load_file(s->mf, &mp, &s->m, err) != LK_OK) goto fail;
    srv_sched_params sp;
    srv_sched_params_default(&sp);
    sp.n_slots = (int32_t)a->parallel;
    sp.n_ctx = (int32_t)a->ctx_size;
    sp.max_queue = (int32_t)a->max_queue;
    sp.kv_type = a->kv_type;
    if (srv_sched_new(s->m, s->tok, &sp, &s->sched, err) != LK_OK) goto fail;
    s->backend.tok = s->tok;
    s->backend.sched = s->sched;
    s->backend.chat = s->chat;
    s->backend.n_ctx = srv_sched_n_ctx(s->sched);
    s->backend.n_vocab = lk_model_hparams(s->m)->n_vocab;
    srv_http_set_backend(s->http, &s->backend);
    fprintf(stderr, "llmkit: serve: ready in %.1f s: %d slots of %d tokens, chat template %s\n", cli_now() - t0,
            sp.n_slots, s->backend.n_ctx, srv_chat_prompt_name(s->chat));
    return NULL;
fail:
    s->failed = true;
    kill(getpid(), SIGUSR1); /* wakes the main thread's sigwait */
    return NULL;
}

static const char *base_name(const char *path) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    const char *s = path + n;
    while (s > path && s[-1] != '/') s--;
    return s;
}

int cmd_serve(int argc, char **argv) {
    serve_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;

    char model_path[4096];
    if (!a.model ? cli_default_model(model_path, sizeof model_path) != 0
                 : cli_resolve_model(a.model, model_path, sizeof model_path) != 0)
        return 1;
    a.model = model_path;
    char *key = a.api_key_file ? read_key_file(a.api_key_file) : NULL;
    if (a.api_key_file && !key) return 1;

    /* model id: --alias, else the file or folder name without .gguf */
    char model_id[256];
    if (a.alias) {
        snprintf(model_id, sizeof model_id, "%s", a.alias);
    } else {
        snprintf(model_id, sizeof model_id, "%s", base_name(model_path));
        size_t n = strlen(model_id);
        if (n > 5 && !strcmp(model_id + n - 5, ".gguf")) model_id[n - 5] = '\0';
    }

    /* signals go to sigwait below, in every thread started from here */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    lk_error err = {0};
    server_state s = {.a = &a};
    srv_metrics *metrics = srv_metrics_new();
    srv_http_config hc = {
        .host = a.host,
        .port = (int)a.port,
        .api_key = key ? key : a.api_key,
        .cors_origin = a.cors,
        .max_body = (size_t)a.max_body,
        .timeout_s = a.timeout_s,
        .model_id = model_id,
        .max_connections = (int)(a.parallel + a.max_queue + 64),
    };
    rc = 1;
    if (!metrics) {
        cli_error("serve: out of memory");
        goto out;
    }
    if (srv_http_start(&hc, metrics, &s.http, &err) != LK_OK) {
        cli_fail(&err);
        goto out;
    }
    bool v6 = strchr(a.host, ':') != NULL;
    fprintf(stderr, "llmkit: serve: listening on http://%s%s%s:%d (model %s loading)\n", v6 ? "[" : "", a.host,
            v6 ? "]" : "", srv_http_port(s.http), model_id);

    pthread_t loader;
    if (pthread_create(&loader, NULL, load_model, &s) != 0) {
        cli_error("serve: cannot start a thread");
        goto out;
    }
    int sig = 0;
    sigwait(&sigs, &sig);
    if (sig != SIGUSR1) fprintf(stderr, "llmkit: serve: stopping\n");
    pthread_join(loader, NULL); /* a load under way finishes first: it hands the daemon the model */
    srv_http_stop(s.http);      /* joins the connection threads: nothing uses the model after */
    s.http = NULL;
    if (s.failed) {
        cli_fail(&s.err);
    } else {
        rc = 0;
    }
out:
    srv_http_stop(s.http);
    srv_sched_free(s.sched);
    lk_model_free(s.m);
    srv_chat_prompt_free(s.chat);
    lk_tokenizer_free(s.tok);
    lk_model_file_close(s.mf);
    srv_metrics_free(metrics);
    free(key);
    return rc;
}
