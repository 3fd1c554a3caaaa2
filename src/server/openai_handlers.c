/* POST /v1/chat/completions and /v1/completions: parse the body, make the
 * prompt's token ids, submit one scheduler request per choice, then either
 * collect the answers into one JSON response or stream them as server-sent
 * events. A client that goes away (checked while waiting on the scheduler)
 * cancels its requests, so their slots free at the next step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "server/http_internal.h"
#include "server/openai_response.h"

#define STREAM_BLOCK 16384
#define WAIT_MS 100

typedef struct {
    srv_http *h;
    const srv_backend *b;
    struct MHD_Connection *conn;
    srv_openai_request req;
    srv_response_meta meta;
    int32_t n_choices;
    srv_request *reqs[SRV_MAX_CHOICES];
    srv_choice choices[SRV_MAX_CHOICES];
    srv_usage usage[SRV_MAX_CHOICES];
    size_t cap_text[SRV_MAX_CHOICES], cap_tokens[SRV_MAX_CHOICES];
    size_t offset[SRV_MAX_CHOICES]; /* completions logprobs: text so far */
    int32_t *prompt_ids[SRV_MAX_CHOICES]; /* per prompt (index p), malloc'd */
    int32_t n_prompt_ids[SRV_MAX_CHOICES];
    char *echo[SRV_MAX_CHOICES];          /* per prompt, completions with echo */
    size_t echo_len[SRV_MAX_CHOICES];
    int32_t n_running;
    /* streaming */
    char *pend;
    size_t pend_len, pend_off, pend_cap;
    bool started, done;
    int32_t next; /* the choice to wait on first, round robin */
} gen_job;

static void job_free(gen_job *j) {
    if (!j) return;
    for (int32_t i = 0; i < j->n_choices; i++) {
        if (j->reqs[i]) srv_request_release(j->reqs[i]); /* cancels one still running */
        free(j->choices[i].text);
        free(j->choices[i].tokens);
    }
    for (int32_t p = 0; p < SRV_MAX_CHOICES; p++) {
        free(j->prompt_ids[p]);
        free(j->echo[p]);
    }
    free(j->pend);
    srv_openai_request_free(&j->req);
    free(j);
}

static bool append(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t c = (*len + n + 1) * 2;
        char *b = realloc(*buf, c);
        if (!b) return false;
        *buf = b, *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return true;
}

/* ------------------------------------------------------------ prompts */

/* The token ids of each prompt; on error *status and *param say how to answer. */
static lk_status make_prompts(gen_job *j, unsigned *status, const char **param, const char **code, lk_error *err) {
    const srv_backend *b = j->b;
    int32_t n_prompts = j->req.api == SRV_API_CHAT ? 1 : j->req.n_prompts;
    *param = j->req.api == SRV_API_CHAT ? "messages" : "prompt";
    *status = 400;
    *code = "invalid_value";
    for (int32_t p = 0; p < n_prompts; p++) {
        size_t n = 0;
        lk_status st;
        if (j->req.api == SRV_API_CHAT) {
            st = srv_chat_prompt_tokens(b->chat, b->tok, j->req.messages, &j->prompt_ids[p], &n, err);
        } else if (j->req.prompts[p].text) {
            const srv_text_prompt *tp = &j->req.prompts[p];
            /* client text is not trusted: "<|im_start|>" in it stays text */
            st = lk_tokenizer_encode(b->tok, tp->text, tp->text_len, true, false, &j->prompt_ids[p], &n, err);
            if (st == LK_OK && n == 0) {
                /* an empty prompt (no BOS in this vocabulary): start from BOS or EOS */
                int32_t start = lk_tokenizer_bos(b->tok) >= 0 ? lk_tokenizer_bos(b->tok) : lk_tokenizer_eos(b->tok);
                if (start < 0) return lk_error_set(err, LK_ERR_ARG, "the prompt is empty");
                j->prompt_ids[p][0] = start;
                n = 1;
            }
        } else {
            const srv_text_prompt *tp = &j->req.prompts[p];
            j->prompt_ids[p] = malloc((size_t)tp->n_tokens * sizeof(int32_t));
            if (!j->prompt_ids[p]) return lk_error_set(err, LK_ERR_NOMEM, "out of memory");
            memcpy(j->prompt_ids[p], tp->tokens, (size_t)tp->n_tokens * sizeof(int32_t));
            n = (size_t)tp->n_tokens;
            for (size_t i = 0; i < n; i++)
                if (tp->tokens[i] >= b->n_vocab)
                    return lk_error_set(err, LK_ERR_ARG, "'prompt' holds token id %d; the vocabulary has %d tokens",
                                        tp->tokens[i], b->n_vocab);
            st = LK_OK;
        }
        if (st != LK_OK) {
            if (st != LK_ERR_ARG) *status = 500, *param = NULL, *code = NULL;
            return st;
        }
        j->n_prompt_ids[p] = (int32_t)n;
        *code = "context_length_exceeded";
        if ((int64_t)n >= b->n_ctx)
            return lk_error_set(err, LK_ERR_RANGE,
                                "the prompt has %zu tokens; the context holds %d (with at least one for the answer)",
                                n, b->n_ctx);
        *code = "invalid_value";
        if (j->req.echo) {
            const srv_text_prompt *tp = &j->req.prompts[p];
            if (tp->text) {
                j->echo[p] = malloc(tp->text_len + 1);
                if (!j->echo[p]) return lk_error_set(err, LK_ERR_NOMEM, "out of memory");
                memcpy(j->echo[p], tp->text, tp->text_len + 1);
                j->echo_len[p] = tp->text_len;
            } else if (lk_tokenizer_decode(b->tok, tp->tokens, (size_t)tp->n_tokens, true, &j->echo[p],
                                           &j->echo_len[p], err) != LK_OK) {
                return err->code;
            }
        }
    }
    if (j->req.max_tokens > b->n_ctx) {
        *param = "max_tokens";
        return lk_error_set(err, LK_ERR_RANGE, "'max_tokens' is %lld; the context holds %d tokens",
                            (long long)j->req.max_tokens, b->n_ctx);
    }
    return LK_OK;
}

/* Submits one request per choice. Returns 0, or the HTTP status to answer. */
static unsigned submit_all(gen_job *j, const char **param, const char **code, lk_error *err) {
    int32_t n = j->req.n;
    int32_t n_prompts = j->req.api == SRV_API_CHAT ? 1 : j->req.n_prompts;
    j->n_choices = n * n_prompts;
    for (int32_t i = 0; i < j->n_choices; i++) {
        int32_t p = i / n;
        srv_request_params rp;
        srv_request_params_default(&rp);
        rp.prompt = j->prompt_ids[p];
        rp.n_prompt = j->n_prompt_ids[p];
        rp.max_tokens = j->req.max_tokens > 0 ? (int32_t)j->req.max_tokens : 0;
        rp.sampling = j->req.sampling;
        rp.sampling.seed += (uint64_t)(i % n); /* n choices of one prompt differ */
        for (size_t k = 0; k < j->req.n_stops; k++) rp.stops[rp.n_stops++] = j->req.stops[k];
        if (j->req.api == SRV_API_CHAT)
        {
            rp.n_stops += srv_chat_prompt_stops(j->b->chat, rp.stops + rp.n_stops, SRV_MAX_STOPS - rp.n_stops);
            rp.n_stop_tokens = (int32_t)srv_chat_prompt_stop_tokens(j->b->chat, j->b->tok, rp.stop_tokens,
                                                                    SRV_MAX_STOPS);
        }
        rp.logprobs = j->req.logprobs;
        rp.top_logprobs = j->req.top_logprobs;
        rp.time_limit_s = j->h->timeout_s;
        srv_submit_result r = srv_sched_submit(j->b->sched, &rp, &j->reqs[i], err);
        if (r != SRV_SUBMIT_OK) {
            j->reqs[i] = NULL;
            *param = NULL, *code = NULL;
            switch (r) {
            case SRV_SUBMIT_TOO_LONG:
                *param = j->req.api == SRV_API_CHAT ? "messages" : "prompt";
                *code = "context_length_exceeded";
                return 400;
            case SRV_SUBMIT_QUEUE_FULL: *code = "queue_full"; return 503;
            case SRV_SUBMIT_INVALID: return 400;
            default: return 500;
            }
        }
        j->n_running++;
        if (j->echo[p]) {
            srv_choice *c = &j->choices[i];
            if (!append(&c->text, &c->text_len, &j->cap_text[i], j->echo[p], j->echo_len[p])) {
                lk_error_set(err, LK_ERR_NOMEM, "out of memory");
                return 500;
            }
            c->text_offset = j->echo_len[p];
            j->offset[i] = j->echo_len[p];
        }
    }
    return 0;
}

static void usage_total(const gen_job *j, srv_usage_total *u) {
    memset(u, 0, sizeof *u);
    for (int32_t i = 0; i < j->n_choices; i++) {
        if (i % j->req.n == 0) { /* the prompt counts once for its n choices */
            u->prompt_tokens += j->usage[i].prompt_tokens;
            u->cached_tokens += j->usage[i].cached_tokens;
        }
        u->completion_tokens += j->usage[i].completion_tokens;
    }
}

/* Waits a little for choice i; true with *o filled when there is output. */
static bool poll_choice(gen_job *j, int32_t i, int wait_ms, srv_output *o) {
    if (!srv_request_wait(j->reqs[i], wait_ms, o)) return false;
    if (o->finish != SRV_FINISH_NONE) {
        j->choices[i].finish = o->finish;
        j->usage[i] = o->usage;
        j->n_running--;
        srv_metrics_request_done(j->h->metrics, &o->usage);
    }
    return true;
}

static int wait_ms(const gen_job *j) {
    int ms = WAIT_MS / (j->n_running > 0 ? j->n_running : 1);
    return ms < 5 ? 5 : ms;
}

/* ------------------------------------------------------------ whole answers */

static enum MHD_Result reply_whole(gen_job *j) {
    lk_error err = {0};
    const char *failure = NULL;
    while (j->n_running > 0) {
        if (atomic_load(&j->h->stopping)) return MHD_NO;
        for (int32_t i = 0; i < j->n_choices; i++) {
            srv_choice *c = &j->choices[i];
            srv_output o;
            if (c->finish != SRV_FINISH_NONE || !poll_choice(j, i, wait_ms(j), &o)) continue;
            if (!append(&c->text, &c->text_len, &j->cap_text[i], o.text ? o.text : "", o.text_len))
                return srv_http_error(j->h, j->conn, 500, "out of memory", "server_error", NULL, NULL);
            if (j->req.logprobs && o.n_tokens > 0) {
                size_t need = (size_t)c->n_tokens + (size_t)o.n_tokens;
                if (need > j->cap_tokens[i]) {
                    size_t cap = need * 2;
                    srv_token_info *t = realloc(c->tokens, cap * sizeof *t);
                    if (!t) return srv_http_error(j->h, j->conn, 500, "out of memory", "server_error", NULL, NULL);
                    c->tokens = t, j->cap_tokens[i] = cap;
                }
                memcpy(c->tokens + c->n_tokens, o.tokens, (size_t)o.n_tokens * sizeof *o.tokens);
                c->n_tokens += o.n_tokens;
            }
            if (o.finish == SRV_FINISH_ERROR) {
                snprintf(err.msg, sizeof err.msg, "%s", o.error ? o.error : "evaluation failed");
                failure = err.msg;
            }
            if (o.finish == SRV_FINISH_CANCELLED) failure = "the server is shutting down";
        }
        if (j->n_running > 0 && srv_http_client_gone(j->conn)) {
            lk_log(LK_LOG_INFO, "http: client gone: %s cancelled", j->meta.id);
            return MHD_NO; /* job_free cancels the requests */
        }
    }
    if (failure) return srv_http_error(j->h, j->conn, 500, failure, "server_error", NULL, NULL);
    srv_usage_total u;
    usage_total(j, &u);
    char *json = srv_json_completion(&j->meta, j->choices, j->n_choices, &u);
    if (!json) return srv_http_error(j->h, j->conn, 500, "out of memory", "server_error", NULL, NULL);
    enum MHD_Result r = srv_http_reply(j->h, j->conn, 200, "application/json", json, strlen(json));
    free(json);
    return r;
}

/* ------------------------------------------------------------ streams */

static bool put_event(gen_job *j, char *json) {
    if (!json) return false;
    bool ok = append(&j->pend, &j->pend_len, &j->pend_cap, "data: ", 6) &&
              append(&j->pend, &j->pend_len, &j->pend_cap, json, strlen(json)) &&
              append(&j->pend, &j->pend_len, &j->pend_cap, "\n\n", 2);
    free(json);
    return ok;
}

/* The events for one output of choice i. */
static bool stream_output(gen_job *j, int32_t i, const srv_output *o) {
    bool usage_null = j->req.include_usage;
    if (o->text_len > 0 || (j->req.logprobs && o->n_tokens > 0)) {
        if (!put_event(j, srv_json_chunk(&j->meta, i, false, o->text, o->text_len, o->tokens, o->n_tokens, j->offset[i],
                                         SRV_FINISH_NONE, usage_null)))
            return false;
        j->offset[i] += o->text_len;
    }
    if (o->finish == SRV_FINISH_ERROR || o->finish == SRV_FINISH_CANCELLED) {
        const char *msg = o->finish == SRV_FINISH_ERROR ? (o->error ? o->error : "evaluation failed")
                                                        : "the server is shutting down";
        return put_event(j, srv_json_error(msg, "server_error", NULL, NULL));
    }
    if (o->finish != SRV_FINISH_NONE)
        return put_event(j, srv_json_chunk(&j->meta, i, false, "", 0, NULL, 0, 0, o->finish, usage_null));
    return true;
}

/* Fills j->pend with the next events, waiting for the scheduler. false:
 * end the stream now (client gone, shutdown, out of memory). */
static bool stream_produce(gen_job *j) {
    if (!j->started) {
        j->started = true;
        for (int32_t i = 0; i < j->n_choices; i++) {
            if (j->req.api == SRV_API_CHAT) {
                if (!put_event(j, srv_json_chunk(&j->meta, i, true, "", 0, NULL, 0, 0, SRV_FINISH_NONE,
                                                 j->req.include_usage)))
                    return false;
            } else if (j->echo[i / j->req.n]) {
                int32_t p = i / j->req.n;
                if (!put_event(j, srv_json_chunk(&j->meta, i, false, j->echo[p], j->echo_len[p], NULL, 0, 0,
                                                 SRV_FINISH_NONE, j->req.include_usage)))
                    return false;
            }
        }
        if (j->pend_len) return true;
    }
    while (j->pend_len == 0) {
        if (atomic_load(&j->h->stopping)) return false;
        if (j->n_running == 0) {
            if (j->req.include_usage) {
                srv_usage_total u;
                usage_total(j, &u);
                if (!put_event(j, srv_json_usage_chunk(&j->meta, &u))) return false;
            }
            if (!append(&j->pend, &j->pend_len, &j->pend_cap, "data: [DONE]\n\n", 14)) return false;
            j->done = true;
            return true;
        }
        for (int32_t k = 0; k < j->n_choices; k++) {
            int32_t i = (j->next + k) % j->n_choices;
            srv_output o;
            if (j->choices[i].finish != SRV_FINISH_NONE || !poll_choice(j, i, wait_ms(j), &o)) continue;
            if (!stream_output(j, i, &o)) return false;
            j->next = (i + 1) % j->n_choices;
            break;
        }
        if (j->pend_len == 0 && srv_http_client_gone(j->conn)) {
            lk_log(LK_LOG_INFO, "http: client gone: %s cancelled", j->meta.id);
            return false;
        }
    }
    return true;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    gen_job *j = cls;
    if (j->pend_off == j->pend_len) {
        j->pend_off = j->pend_len = 0;
        if (j->done) return MHD_CONTENT_READER_END_OF_STREAM;
        if (!stream_produce(j)) return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = j->pend_len - j->pend_off;
    if (n > max) n = max;
    memcpy(buf, j->pend + j->pend_off, n);
    j->pend_off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls) { job_free(cls); }

/* From MHD_queue_response on, j belongs to the response: when the connection
 * did not take a reference (queueing failed, or the daemon is already
 * shutting down), MHD_destroy_response runs stream_free at once. So nothing here reads j
 * after queueing. */
static enum MHD_Result reply_stream(gen_job *j) {
    srv_http *h = j->h;
    struct MHD_Connection *conn = j->conn;
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, j,
                                                               stream_free);
    if (!r) {
        job_free(j);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    srv_http_add_cors(h, r);
    enum MHD_Result ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r); /* may free j (see above) */
    if (ret == MHD_YES) srv_metrics_http(h->metrics, 200);
    return ret;
}

/* ------------------------------------------------------------ entry */

enum MHD_Result srv_handle_generation(srv_http *h, const srv_backend *b, struct MHD_Connection *c, srv_api api,
                                      const char *body, size_t len) {
    gen_job *j = calloc(1, sizeof *j);
    if (!j) return MHD_NO;
    j->h = h, j->b = b, j->conn = c;
    lk_error err = {0};
    char param[96];
    enum MHD_Result ret;
    if (srv_openai_request_parse(body, len, api, &j->req, param, sizeof param, &err) != LK_OK) {
        bool oom = err.code == LK_ERR_NOMEM;
        ret = srv_http_error(h, c, oom ? 500 : 400, err.msg, oom ? "server_error" : "invalid_request_error", param,
                             oom ? NULL : "invalid_value");
        job_free(j);
        return ret;
    }
    srv_response_meta_init(&j->meta, api, h->model_id, b->tok, j->req.logprobs);
    unsigned status;
    const char *bad = NULL, *code = NULL;
    lk_status st = make_prompts(j, &status, &bad, &code, &err);
    if (st != LK_OK) {
        ret = srv_http_error(h, c, status, err.msg, status == 400 ? "invalid_request_error" : "server_error", bad, code);
        job_free(j);
        return ret;
    }
    status = submit_all(j, &bad, &code, &err);
    if (status) {
        const char *type = status == 400 ? "invalid_request_error" : status == 503 ? "unavailable_error" : "server_error";
        ret = srv_http_error(h, c, status, err.msg, type, bad, code);
        job_free(j);
        return ret;
    }
    if (j->req.stream) return reply_stream(j);
    ret = reply_whole(j);
    job_free(j);
    return ret;
}
