/* The request object: reference counting and the output channel (see
 * request.h). The worker appends to `posted`; srv_request_wait swaps it with
 * `handed`, so the pointers a caller got stay valid until its next wait and
 * nothing is copied twice. */
#include "server/request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double srv_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

srv_request *srv_request_alloc(void) {
    srv_request *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) {
        free(r);
        return NULL;
    }
    /* Timed waits measure on the monotonic clock, immune to clock changes. */
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc_cv = pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc_cv != 0) {
        free(r);
        return NULL;
    }
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        pthread_cond_destroy(&r->cv);
        free(r);
        return NULL;
    }
    atomic_init(&r->cancelled, false);
    r->refs = 2;
    return r;
}

static void chunk_free(srv_chunk *c) {
    free(c->text);
    free(c->tokens);
}

void srv_request_unref(srv_request *r) {
    if (!r) return;
    pthread_mutex_lock(&r->mu);
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&r->mu);
    if (!last) return;
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    chunk_free(&r->posted);
    chunk_free(&r->handed);
    lk_sampler_free(r->sampler);
    lk_stop_matcher_free(r->stop);
    lk_detokenizer_free(r->detok);
    free(r->prompt);
    free(r);
}

static bool chunk_append(srv_chunk *c, const char *text, size_t len, const srv_token_info *tok) {
    if (len + 1 > c->cap - c->len || !c->text) {
        size_t cap = c->cap ? c->cap : 256;
        while (cap < c->len + len + 1) cap *= 2;
        char *p = realloc(c->text, cap);
        if (!p) return false;
        c->text = p, c->cap = cap;
    }
    memcpy(c->text + c->len, text, len);
    c->len += len;
    c->text[c->len] = '\0';
    if (tok) {
        if (c->n_tokens == c->cap_tokens) {
            int32_t cap = c->cap_tokens ? c->cap_tokens * 2 : 16;
            srv_token_info *p = realloc(c->tokens, (size_t)cap * sizeof *p);
            if (!p) return false;
            c->tokens = p, c->cap_tokens = cap;
        }
        c->tokens[c->n_tokens++] = *tok;
    }
    return true;
}

bool srv_request_post(srv_request *r, const char *text, size_t len, const srv_token_info *tok,
                      const srv_usage *usage) {
    pthread_mutex_lock(&r->mu);
    bool ok = chunk_append(&r->posted, text ? text : "", text ? len : 0, tok);
    if (usage) r->usage = *usage;
    if (ok && (len > 0 || tok)) pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return ok;
}

void srv_request_finish(srv_request *r, srv_finish finish, const srv_usage *usage,
                        const char *error) {
    pthread_mutex_lock(&r->mu);
    r->finish = finish;
    if (usage) r->usage = *usage;
    if (error) snprintf(r->error, sizeof r->error, "%s", error);
    r->sched = NULL;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* True when there is something the caller has not seen. Under r->mu. */
static bool has_news(const srv_request *r) {
    return r->posted.len > 0 || r->posted.n_tokens > 0 || r->finish != SRV_FINISH_NONE;
}

bool srv_request_wait(srv_request *r, int timeout_ms, srv_output *out) {
    memset(out, 0, sizeof *out);
    out->text = "";
    pthread_mutex_lock(&r->mu);
    if (timeout_ms < 0) {
        while (!has_news(r)) pthread_cond_wait(&r->cv, &r->mu);
    } else {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
        while (!has_news(r))
            if (pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT) break;
    }
    if (!has_news(r)) {
        out->usage = r->usage;
        pthread_mutex_unlock(&r->mu);
        return false;
    }
    srv_chunk t = r->handed;
    r->handed = r->posted;
    r->posted = t;
    r->posted.len = 0;
    r->posted.n_tokens = 0;
    if (r->handed.text) out->text = r->handed.text;
    out->text_len = r->handed.len;
    out->tokens = r->handed.tokens;
    out->n_tokens = r->handed.n_tokens;
    out->finish = r->finish;
    out->usage = r->usage;
    if (r->finish == SRV_FINISH_ERROR) out->error = r->error;
    pthread_mutex_unlock(&r->mu);
    return true;
}

void srv_request_cancel(srv_request *r) {
    if (!r) return;
    pthread_mutex_lock(&r->mu);
    atomic_store(&r->cancelled, true);
    if (r->sched) srv_sched_wake(r->sched);
    pthread_mutex_unlock(&r->mu);
}

void srv_request_release(srv_request *r) {
    if (!r) return;
    srv_request_cancel(r);
    srv_request_unref(r);
}
