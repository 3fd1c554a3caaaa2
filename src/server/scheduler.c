/* The scheduler's worker and its slots (see scheduler.h for the contract,
 * docs/server.md "Scheduling" for the behaviour).
 *
 * Threads. HTTP threads call submit (queue under s->mu), wait/cancel/release
 * (request.c, under the request's own mutex). The worker alone touches the
 * slots, their contexts and each running request's sampler, detokenizer and
 * stop matcher, so evaluation needs no lock at all. s->mu guards the queue,
 * the busy count, the totals and `stopping`; the worker never holds it while
 * taking a request's mutex (the lock order is request, then scheduler). */
#include "server/scheduler.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "generate/stop.h"
#include "model/kv_cache.h"
#include "server/logprobs.h"
#include "server/request.h"

typedef enum { SLOT_FREE = 0, SLOT_PREFILL, SLOT_GENERATE } slot_phase;

typedef struct {
    lk_context *ctx;
    int32_t *cached;    /* [n_ctx] the tokens whose keys and values ctx holds */
    int32_t n_cached;   /* == lk_context_n_past(ctx) */
    uint64_t last_used; /* admission number: ties go to the least recently used slot */
    float *logits;      /* [n_vocab] after the last prompt chunk */

    slot_phase phase;
    srv_request *r;
    int32_t next;       /* sampled, not yet evaluated (SLOT_GENERATE) */
    bool stopped;       /* the stop matcher completed a stop string */
    srv_usage usage;
    double t_start, t_first; /* got the slot; first token sampled (0: not yet) */
} slot;

struct srv_sched {
    const lk_model *m;
    const lk_tokenizer *tok;
    srv_sched_params p;
    int32_t n_ctx, n_vocab;
    int32_t eos[LK_MAX_EOS + 1];
    int32_t n_eos;

    /* The worker's alone. */
    slot *slots;
    uint64_t admissions;
    lk_context **multi_ctx;  /* [n_slots] one lk_eval_multi's sequences */
    int32_t *multi_tok;      /* [n_slots] */
    int32_t *multi_slot;     /* [n_slots] */
    float *multi_logits;     /* [n_slots][n_vocab] */
    srv_request **admit;     /* [n_slots] taken from the queue this step */

    pthread_t worker;
    bool worker_started;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* work arrived, a request was cancelled, or stop */
    /* Under mu. */
    srv_request *q_head, *q_tail;
    int32_t n_queued, n_busy;
    bool stopping;
    srv_sched_stats totals;
};

void srv_sched_params_default(srv_sched_params *p) {
    memset(p, 0, sizeof *p);
    p->n_slots = 4;
    p->n_ctx = 0;
    p->max_queue = 64;
    p->n_prefill = 256;
    p->kv_type = LK_DTYPE_F16;
}

void srv_request_params_default(srv_request_params *p) {
    memset(p, 0, sizeof *p);
    p->max_tokens = 0;
    lk_sampler_params_default(&p->sampling);
}

int32_t srv_sched_n_ctx(const srv_sched *s) { return s->n_ctx; }

void srv_sched_wake(srv_sched *s) {
    pthread_mutex_lock(&s->mu);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void srv_sched_get_stats(srv_sched *s, srv_sched_stats *out) {
    pthread_mutex_lock(&s->mu);
    *out = s->totals;
    out->n_slots = s->p.n_slots;
    out->busy_slots = s->n_busy;
    out->queued = s->n_queued;
    pthread_mutex_unlock(&s->mu);
}

/* ---------------------------------------------------------------- finishing */

static void add_totals(srv_sched *s, const srv_usage *u) {
    pthread_mutex_lock(&s->mu);
    s->totals.requests_finished++;
    s->totals.prompt_tokens += (uint64_t)u->prompt_tokens;
    s->totals.cached_tokens += (uint64_t)u->cached_tokens;
    s->totals.completion_tokens += (uint64_t)u->completion_tokens;
    s->totals.prompt_s += u->prompt_s;
    s->totals.generation_s += u->generation_s;
    pthread_mutex_unlock(&s->mu);
}

/* A request that never got a slot (cancelled or timed out in the queue, or
 * the scheduler shut down). */
static void finish_queued(srv_sched *s, srv_request *r, srv_finish why) {
    srv_usage u = {0};
    u.prompt_tokens = r->n_prompt;
    u.queue_s = srv_now() - r->t_submit;
    add_totals(s, &u); /* first, so a caller who saw the finish sees it counted */
    srv_request_finish(r, why, &u, NULL);
    srv_request_unref(r);
}

/* Releases text the detokenizer and the stop matcher held back, at the end
 * of a request that was not cut by a stop string. May turn the finish into
 * STOP when the released text completes a stop string. */
static void flush_text(slot *sl, srv_finish *why) {
    srv_request *r = sl->r;
    size_t len, out_len = 0;
    const char *piece = lk_detokenizer_flush(r->detok, &len);
    const char *out = NULL;
    bool stopped = false;
    if (lk_stop_matcher_push(r->stop, piece, len, &out, &out_len, &stopped, NULL) == LK_OK)
        srv_request_post(r, out, out_len, NULL, NULL);
    if (stopped) {
        *why = SRV_FINISH_STOP;
        return;
    }
    out = lk_stop_matcher_flush(r->stop, &out_len);
    srv_request_post(r, out, out_len, NULL, NULL);
}

/* Ends the slot's request and frees the slot. The slot keeps its KV cache
 * (and `cached`) for prefix reuse, except after an error. */
static void finish_slot(srv_sched *s, slot *sl, srv_finish why, const char *error) {
    srv_request *r = sl->r;
    double now = srv_now();
    if (!sl->stopped && (why == SRV_FINISH_STOP || why == SRV_FINISH_LENGTH ||
                         why == SRV_FINISH_TIMEOUT))
        flush_text(sl, &why);
    if (sl->t_first > 0) {
        sl->usage.prompt_s = sl->t_first - sl->t_start;
        sl->usage.generation_s = now - sl->t_first;
    } else {
        sl->usage.prompt_s = now - sl->t_start;
    }
    /* Counted first, so a caller who saw the finish sees the slot free. */
    pthread_mutex_lock(&s->mu);
    s->n_busy--;
    pthread_mutex_unlock(&s->mu);
    add_totals(s, &sl->usage);
    srv_request_finish(r, why, &sl->usage, error);
    if (why == SRV_FINISH_ERROR) {
        lk_context_reset(sl->ctx);
        sl->n_cached = 0;
    }
    /* The request's streaming state is no longer needed: free it now rather
     * than when the caller lets go of the handle. */
    lk_sampler_free(r->sampler);
    lk_stop_matcher_free(r->stop);
    lk_detokenizer_free(r->detok);
    r->sampler = NULL, r->stop = NULL, r->detok = NULL;
    sl->r = NULL;
    sl->phase = SLOT_FREE;
    srv_request_unref(r);
}

/* ---------------------------------------------------------------- tokens */

static bool is_eos(const srv_sched *s, const srv_request *r, int32_t id) {
    for (int32_t i = 0; i < s->n_eos; i++)
        if (s->eos[i] == id) return true;
    for (int32_t i = 0; i < r->n_stop_tokens; i++)
        if (r->stop_tokens[i] == id) return true;
    return false;
}

/* A token sampled from `logits` for the slot's request: post it, then either
 * finish the request or make the token the next one to evaluate. */
static void take_token(srv_sched *s, slot *sl, int32_t token, const float *logits) {
    srv_request *r = sl->r;
    sl->usage.completion_tokens++;
    if (sl->t_first == 0) sl->t_first = srv_now();
    if (!r->ignore_eos && is_eos(s, r, token)) {
        finish_slot(s, sl, SRV_FINISH_STOP, NULL);
        return;
    }
    lk_sampler_accept(r->sampler, token);
    srv_token_info info;
    if (r->logprobs) {
        srv_logprobs(logits, s->n_vocab, token, r->top_logprobs, &info);
    } else {
        memset(&info, 0, sizeof info);
        info.chosen.token = token;
    }
    size_t len, out_len = 0;
    const char *piece = lk_detokenizer_push(r->detok, token, &len);
    const char *out = NULL;
    lk_error err;
    if (lk_stop_matcher_push(r->stop, piece, len, &out, &out_len, &sl->stopped, &err) != LK_OK) {
        finish_slot(s, sl, SRV_FINISH_ERROR, err.msg);
        return;
    }
    if (!srv_request_post(r, out, out_len, &info, &sl->usage)) {
        finish_slot(s, sl, SRV_FINISH_ERROR, "out of memory for the request's output");
        return;
    }
    if (sl->stopped) {
        finish_slot(s, sl, SRV_FINISH_STOP, NULL);
    } else if (r->max_tokens > 0 && sl->usage.completion_tokens >= r->max_tokens) {
        finish_slot(s, sl, SRV_FINISH_LENGTH, NULL);
    } else if (sl->n_cached >= s->n_ctx) {
        finish_slot(s, sl, SRV_FINISH_LENGTH, NULL); /* no room to evaluate the token */
    } else {
        sl->next = token;
        sl->phase = SLOT_GENERATE;
    }
}

/* ---------------------------------------------------------------- admission */

static int32_t common_prefix(const int32_t *a, int32_t na, const int32_t *b, int32_t nb) {
    int32_t n = na < nb ? na : nb, i = 0;
    while (i < n && a[i] == b[i]) i++;
    return i;
}

/* Puts a request into the free slot whose cache shares the longest prefix
 * with its prompt, keeping that part of the cache. */
static void admit(srv_sched *s, srv_request *r) {
    slot *best = NULL;
    int32_t best_lcp = -1;
    for (int32_t i = 0; i < s->p.n_slots; i++) {
        slot *sl = &s->slots[i];
        if (sl->phase != SLOT_FREE) continue;
        int32_t lcp = common_prefix(sl->cached, sl->n_cached, r->prompt, r->n_prompt);
        if (lcp > best_lcp || (lcp == best_lcp && sl->last_used < best->last_used))
            best = sl, best_lcp = lcp;
    }
    /* A negligible shared prefix (a BOS token) is not worth another
     * conversation's cache: take the least recently used free slot instead. */
    if ((int64_t)best_lcp * 10 < r->n_prompt) {
        for (int32_t i = 0; i < s->p.n_slots; i++) {
            slot *sl = &s->slots[i];
            if (sl->phase == SLOT_FREE && sl->last_used < best->last_used) best = sl;
        }
        best_lcp = common_prefix(best->cached, best->n_cached, r->prompt, r->n_prompt);
    }
    /* The worker reserved a slot (n_busy) before handing the request over. */
    slot *sl = best;
    /* At least one prompt token is evaluated, for the logits of the first answer token. */
    int32_t keep = best_lcp < r->n_prompt - 1 ? best_lcp : r->n_prompt - 1;
    lk_context_truncate(sl->ctx, keep, NULL);
    sl->n_cached = keep;
    sl->last_used = ++s->admissions;
    sl->r = r;
    sl->phase = SLOT_PREFILL;
    sl->stopped = false;
    sl->t_start = srv_now();
    sl->t_first = 0;
    memset(&sl->usage, 0, sizeof sl->usage);
    sl->usage.prompt_tokens = r->n_prompt;
    sl->usage.cached_tokens = keep;
    sl->usage.queue_s = sl->t_start - r->t_submit;
    srv_request_post(r, NULL, 0, NULL, &sl->usage);
}

/* ---------------------------------------------------------------- one step */

static bool timed_out(const srv_request *r, double now) {
    return r->time_limit_s > 0 && now - r->t_submit > r->time_limit_s;
}

/* Cancelled or past its time: finishes it and returns true. */
static bool drop_if_over(srv_sched *s, slot *sl) {
    if (atomic_load(&sl->r->cancelled)) {
        finish_slot(s, sl, SRV_FINISH_CANCELLED, NULL);
        return true;
    }
    if (timed_out(sl->r, srv_now())) {
        finish_slot(s, sl, SRV_FINISH_TIMEOUT, NULL);
        return true;
    }
    return false;
}

/* One chunk of the slot's pending prompt; after the last one, the first
 * answer token. */
static void prefill_chunk(srv_sched *s, slot *sl) {
    srv_request *r = sl->r;
    int32_t n = r->n_prompt - sl->n_cached;
    if (n > s->p.n_prefill) n = s->p.n_prefill;
    bool last = sl->n_cached + n == r->n_prompt;
    lk_error err;
    if (lk_eval(sl->ctx, r->prompt + sl->n_cached, n, last ? LK_LOGITS_LAST : LK_LOGITS_NONE,
                sl->logits, &err) != LK_OK) {
        finish_slot(s, sl, SRV_FINISH_ERROR, err.msg);
        return;
    }
    memcpy(sl->cached + sl->n_cached, r->prompt + sl->n_cached, (size_t)n * sizeof *sl->cached);
    sl->n_cached += n;
    if (last) take_token(s, sl, lk_sampler_sample(r->sampler, sl->logits), sl->logits);
}

/* One lk_eval_multi over every generating slot, then a token for each. */
static void generate(srv_sched *s) {
    int32_t n = 0;
    for (int32_t i = 0; i < s->p.n_slots; i++) {
        slot *sl = &s->slots[i];
        if (sl->phase != SLOT_GENERATE) continue;
        s->multi_ctx[n] = sl->ctx;
        s->multi_tok[n] = sl->next;
        s->multi_slot[n] = i;
        n++;
    }
    if (n == 0) return;
    lk_error err;
    if (lk_eval_multi(s->multi_ctx, s->multi_tok, n, s->multi_logits, &err) != LK_OK) {
        for (int32_t k = 0; k < n; k++) finish_slot(s, &s->slots[s->multi_slot[k]], SRV_FINISH_ERROR, err.msg);
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->totals.decode_steps++;
    s->totals.decode_rows += (uint64_t)n;
    pthread_mutex_unlock(&s->mu);
    for (int32_t k = 0; k < n; k++) {
        slot *sl = &s->slots[s->multi_slot[k]];
        sl->cached[sl->n_cached++] = s->multi_tok[k];
        const float *logits = s->multi_logits + (size_t)k * (size_t)s->n_vocab;
        take_token(s, sl, lk_sampler_sample(sl->r->sampler, logits), logits);
    }
}

static void step(srv_sched *s) {
    for (int32_t i = 0; i < s->p.n_slots; i++)
        if (s->slots[i].phase != SLOT_FREE) drop_if_over(s, &s->slots[i]);
    /* Each prefilling slot evaluates one chunk; a cancel is seen between chunks. */
    for (int32_t i = 0; i < s->p.n_slots; i++) {
        slot *sl = &s->slots[i];
        if (sl->phase == SLOT_PREFILL && !drop_if_over(s, sl)) prefill_chunk(s, sl);
    }
    generate(s);
}

/* Under s->mu: unlinks queued requests that were cancelled or timed out onto
 * *dropped (chained through next), the others keep their order. */
static void sweep_queue(srv_sched *s, double now, srv_request **dropped) {
    srv_request **link = &s->q_head;
    s->q_tail = NULL;
    while (*link) {
        srv_request *r = *link;
        if (atomic_load(&r->cancelled) || timed_out(r, now)) {
            *link = r->next;
            r->next = *dropped;
            *dropped = r;
            s->n_queued--;
        } else {
            s->q_tail = r;
            link = &r->next;
        }
    }
}

static void *worker_main(void *arg) {
    srv_sched *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stopping && !s->q_head && s->n_busy == 0) pthread_cond_wait(&s->cv, &s->mu);
        if (s->stopping) break;
        double now = srv_now();
        srv_request *dropped = NULL;
        sweep_queue(s, now, &dropped);
        int32_t n_admit = 0;
        while (s->q_head && s->n_busy < s->p.n_slots) {
            srv_request *r = s->q_head;
            s->q_head = r->next;
            if (!s->q_head) s->q_tail = NULL;
            r->next = NULL;
            s->n_queued--;
            s->n_busy++; /* reserved now, so stats and submit see it at once */
            s->admit[n_admit++] = r;
        }
        pthread_mutex_unlock(&s->mu);
        while (dropped) {
            srv_request *r = dropped;
            dropped = r->next;
            r->next = NULL;
            finish_queued(s, r, atomic_load(&r->cancelled) ? SRV_FINISH_CANCELLED : SRV_FINISH_TIMEOUT);
        }
        for (int32_t i = 0; i < n_admit; i++) admit(s, s->admit[i]);
        step(s);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---------------------------------------------------------------- lifetime */

/* The model's training context, halved until all the slots' KV caches fit in
 * a quarter of physical memory (as lk_context_new does for one). */
static int32_t default_slot_ctx(const lk_hparams *hp, lk_dtype kv_type, int32_t n_slots) {
    int32_t n = hp->n_ctx_train > 0 ? hp->n_ctx_train : 4096;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t budget = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 4 : (1ull << 32);
    while (n > 256) {
        uint64_t need = lk_kv_cache_bytes(kv_type, hp->n_layer, n, hp->n_head_kv * hp->head_dim);
        if (need != 0 && need <= budget / (uint64_t)n_slots) break;
        n /= 2;
    }
    return n;
}

void srv_sched_free(srv_sched *s) {
    if (!s) return;
    if (s->worker_started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->worker, NULL);
    }
    /* The worker is gone: what it was running or had queued ends here. */
    for (int32_t i = 0; s->slots && i < s->p.n_slots; i++)
        if (s->slots[i].phase != SLOT_FREE) finish_slot(s, &s->slots[i], SRV_FINISH_CANCELLED, NULL);
    while (s->q_head) {
        srv_request *r = s->q_head;
        s->q_head = r->next;
        r->next = NULL;
        s->n_queued--;
        finish_queued(s, r, SRV_FINISH_CANCELLED);
    }
    for (int32_t i = 0; s->slots && i < s->p.n_slots; i++) {
        lk_context_free(s->slots[i].ctx);
        free(s->slots[i].cached);
        free(s->slots[i].logits);
    }
    free(s->slots);
    free(s->multi_ctx);
    free(s->multi_tok);
    free(s->multi_slot);
    free(s->multi_logits);
    free(s->admit);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

lk_status srv_sched_new(const lk_model *m, const lk_tokenizer *tok, const srv_sched_params *p,
                        srv_sched **out, lk_error *err) {
    *out = NULL;
    srv_sched_params defaults;
    if (!p) {
        srv_sched_params_default(&defaults);
        p = &defaults;
    }
    if (!m || !tok) return lk_error_set(err, LK_ERR_ARG, "scheduler: no model or tokenizer");
    if (p->n_slots < 1 || p->n_slots > 256)
        return lk_error_set(err, LK_ERR_RANGE, "scheduler: %d parallel slots (1..256)", p->n_slots);
    if (p->max_queue < 0 || p->n_prefill < 1 || p->n_ctx < 0)
        return lk_error_set(err, LK_ERR_RANGE,
                            "scheduler: queue %d, prefill chunk %d, context %d (want >= 0, >= 1, >= 0)",
                            p->max_queue, p->n_prefill, p->n_ctx);
    const lk_hparams *hp = lk_model_hparams(m);
    srv_sched *s = calloc(1, sizeof *s);
    if (!s) return lk_error_set(err, LK_ERR_NOMEM, "scheduler: out of memory");
    s->m = m;
    s->tok = tok;
    s->p = *p;
    s->n_vocab = hp->n_vocab;
    for (int32_t i = 0; i < hp->n_eos && i < LK_MAX_EOS; i++) s->eos[s->n_eos++] = hp->eos_ids[i];
    if (lk_tokenizer_eos(tok) >= 0) s->eos[s->n_eos++] = lk_tokenizer_eos(tok);
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return lk_error_set(err, LK_ERR_INTERNAL, "scheduler: cannot create a mutex");
    }
    if (pthread_cond_init(&s->cv, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        return lk_error_set(err, LK_ERR_INTERNAL, "scheduler: cannot create a condition variable");
    }
    int32_t n = p->n_slots;
    s->slots = calloc((size_t)n, sizeof *s->slots);
    s->multi_ctx = calloc((size_t)n, sizeof *s->multi_ctx);
    s->multi_tok = calloc((size_t)n, sizeof *s->multi_tok);
    s->multi_slot = calloc((size_t)n, sizeof *s->multi_slot);
    s->multi_logits = malloc((size_t)n * (size_t)s->n_vocab * sizeof *s->multi_logits);
    s->admit = calloc((size_t)n, sizeof *s->admit);
    if (!s->slots || !s->multi_ctx || !s->multi_tok || !s->multi_slot || !s->multi_logits || !s->admit) {
        srv_sched_free(s);
        return lk_error_set(err, LK_ERR_NOMEM, "scheduler: out of memory");
    }
    lk_context_params cp;
    lk_context_params_default(&cp);
    cp.n_ctx = p->n_ctx > 0 ? p->n_ctx : default_slot_ctx(hp, p->kv_type, n);
    cp.kv_type = p->kv_type;
    /* One forward pass takes a whole prefill chunk, or every slot's next token. */
    cp.n_batch = p->n_prefill > n ? p->n_prefill : n;
    for (int32_t i = 0; i < n; i++) {
        slot *sl = &s->slots[i];
        lk_status st = lk_context_new(m, &cp, &sl->ctx, err);
        if (st != LK_OK) {
            srv_sched_free(s);
            return lk_error_wrap(err, "scheduler: slot %d", i);
        }
        /* lk_context_new may lower the size (learned positions). */
        s->n_ctx = lk_context_n_ctx(sl->ctx);
        sl->cached = malloc((size_t)s->n_ctx * sizeof *sl->cached);
        sl->logits = malloc((size_t)s->n_vocab * sizeof *sl->logits);
        if (!sl->cached || !sl->logits) {
            srv_sched_free(s);
            return lk_error_set(err, LK_ERR_NOMEM, "scheduler: out of memory for slot %d", i);
        }
    }
    if (pthread_create(&s->worker, NULL, worker_main, s) != 0) {
        srv_sched_free(s);
        return lk_error_set(err, LK_ERR_INTERNAL, "scheduler: cannot start the worker thread");
    }
    s->worker_started = true;
    *out = s;
    return LK_OK;
}

/* ---------------------------------------------------------------- submit */

static srv_submit_result refuse(srv_request *r, srv_submit_result why) {
    if (r) {
        r->refs = 1;
        srv_request_unref(r);
    }
    return why;
}

srv_submit_result srv_sched_submit(srv_sched *s, const srv_request_params *p, srv_request **out,
                                   lk_error *err) {
    *out = NULL;
    if (!p || !p->prompt || p->n_prompt < 1) {
        lk_error_set(err, LK_ERR_ARG, "the prompt is empty");
        return SRV_SUBMIT_INVALID;
    }
    if (p->n_prompt >= s->n_ctx) {
        lk_error_set(err, LK_ERR_RANGE,
                     "the prompt has %d tokens; the context holds %d (at most %d prompt tokens, "
                     "to leave room for the answer)", p->n_prompt, s->n_ctx, s->n_ctx - 1);
        return SRV_SUBMIT_TOO_LONG;
    }
    for (int32_t i = 0; i < p->n_prompt; i++)
        if (p->prompt[i] < 0 || p->prompt[i] >= s->n_vocab) {
            lk_error_set(err, LK_ERR_ARG, "prompt token %d (at index %d) is outside the "
                         "vocabulary (0..%d)", p->prompt[i], i, s->n_vocab - 1);
            return SRV_SUBMIT_INVALID;
        }
    if (p->top_logprobs < 0 || p->top_logprobs > SRV_MAX_TOP_LOGPROBS) {
        lk_error_set(err, LK_ERR_RANGE, "top_logprobs is %d (0..%d)", p->top_logprobs,
                     SRV_MAX_TOP_LOGPROBS);
        return SRV_SUBMIT_INVALID;
    }
    if (p->n_stops > SRV_MAX_STOPS) {
        lk_error_set(err, LK_ERR_RANGE, "%zu stop strings (at most %d)", p->n_stops, SRV_MAX_STOPS);
        return SRV_SUBMIT_INVALID;
    }
    if (isnan(p->time_limit_s)) {
        lk_error_set(err, LK_ERR_ARG, "the time limit is not a number");
        return SRV_SUBMIT_INVALID;
    }

    srv_request *r = srv_request_alloc();
    if (!r) {
        lk_error_set(err, LK_ERR_NOMEM, "out of memory for a request");
        return SRV_SUBMIT_NOMEM;
    }
    r->prompt = malloc((size_t)p->n_prompt * sizeof *r->prompt);
    if (!r->prompt) {
        lk_error_set(err, LK_ERR_NOMEM, "out of memory for a request");
        return refuse(r, SRV_SUBMIT_NOMEM);
    }
    memcpy(r->prompt, p->prompt, (size_t)p->n_prompt * sizeof *r->prompt);
    r->n_prompt = p->n_prompt;
    r->max_tokens = p->max_tokens;
    r->logprobs = p->logprobs || p->top_logprobs > 0;
    r->top_logprobs = p->top_logprobs;
    r->time_limit_s = p->time_limit_s;
    r->ignore_eos = p->ignore_eos;
    for (int32_t i = 0; i < p->n_stop_tokens && i < SRV_MAX_STOPS; i++)
        r->stop_tokens[r->n_stop_tokens++] = p->stop_tokens[i];
    lk_status st = lk_sampler_new(&p->sampling, s->n_vocab, &r->sampler, err);
    if (st == LK_OK) st = lk_stop_matcher_new((const char *const *)p->stops, p->n_stops, &r->stop, err);
    if (st != LK_OK) return refuse(r, st == LK_ERR_NOMEM ? SRV_SUBMIT_NOMEM : SRV_SUBMIT_INVALID);
    r->detok = lk_detokenizer_new(s->tok, true);
    if (!r->detok) {
        lk_error_set(err, LK_ERR_NOMEM, "out of memory for a request");
        return refuse(r, SRV_SUBMIT_NOMEM);
    }
    /* Penalties look at the prompt too. */
    for (int32_t i = 0; i < r->n_prompt; i++) lk_sampler_accept(r->sampler, r->prompt[i]);
    r->usage.prompt_tokens = r->n_prompt;
    r->sched = s;
    r->t_submit = srv_now();

    pthread_mutex_lock(&s->mu);
    /* Requests that would wait for a slot, this one included. */
    int32_t waiting = s->n_queued + 1 - (s->p.n_slots - s->n_busy);
    if (s->stopping || waiting > s->p.max_queue) {
        bool stopping = s->stopping;
        int32_t queued = s->n_queued;
        pthread_mutex_unlock(&s->mu);
        if (stopping) {
            lk_error_set(err, LK_ERR_ARG, "the server is shutting down");
            return refuse(r, SRV_SUBMIT_QUEUE_FULL);
        }
        lk_error_set(err, LK_ERR_RANGE,
                     "the server is busy: all %d slots are taken and %d requests wait (the queue "
                     "holds %d); try again later", s->p.n_slots, queued, s->p.max_queue);
        return refuse(r, SRV_SUBMIT_QUEUE_FULL);
    }
    if (s->q_tail) s->q_tail->next = r;
    else s->q_head = r;
    s->q_tail = r;
    s->n_queued++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    *out = r;
    return SRV_SUBMIT_OK;
}
