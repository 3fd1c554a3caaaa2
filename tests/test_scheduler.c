/* The server's scheduler (src/server/scheduler.h) on stories260K.gguf:
 * greedy output equals a plain lk_eval loop written here; requests decoded
 * together give what they give alone; cancellation mid-prefill and
 * mid-generation frees the slot; a prompt extending an earlier answer
 * reuses the cached KV and still gives the fresh answer; submit refuses a
 * full queue, a long prompt and bad ids; stop strings, max_tokens, context
 * full, time limits and logprobs. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/scheduler.h"
#include "test.h"

static lk_model *g_model;
static lk_tokenizer *g_tok;
static int32_t g_n_vocab;

/* ---------------------------------------------------------------- helpers */

typedef struct {
    char *text;
    size_t len;
    int32_t tokens[1024];
    float logprob[1024];
    int32_t n_tokens;
    srv_finish finish;
    srv_usage usage;
    bool logprobs_ok; /* every token: sorted top, sum exp <= 1, chosen == top[0] when asked */
} result;

static void result_free(result *r) { free(r->text); }

/* Reads a request's output to its end. greedy_top: check chosen == top[0]. */
static void collect(srv_request *rq, bool greedy_top, result *out) {
    memset(out, 0, sizeof *out);
    out->text = calloc(1, 1);
    out->logprobs_ok = true;
    for (;;) {
        srv_output o;
        if (!srv_request_wait(rq, 20000, &o)) {
            CHECK_MSG(false, "no output within 20 s");
            out->finish = SRV_FINISH_ERROR;
            return;
        }
        out->text = realloc(out->text, out->len + o.text_len + 1);
        memcpy(out->text + out->len, o.text, o.text_len);
        out->len += o.text_len;
        out->text[out->len] = '\0';
        for (int32_t i = 0; i < o.n_tokens && out->n_tokens < 1024; i++) {
            const srv_token_info *t = &o.tokens[i];
            out->tokens[out->n_tokens] = t->chosen.token;
            out->logprob[out->n_tokens++] = t->chosen.logprob;
            double sum = 0;
            for (int32_t k = 0; k < t->n_top; k++) {
                sum += exp(t->top[k].logprob);
                if (k > 0 && t->top[k].logprob > t->top[k - 1].logprob) out->logprobs_ok = false;
            }
            if (sum > 1 + 1e-5 || t->chosen.logprob > 1e-6) out->logprobs_ok = false;
            if (greedy_top && t->n_top > 0 &&
                (t->top[0].token != t->chosen.token || t->top[0].logprob != t->chosen.logprob))
                out->logprobs_ok = false;
        }
        if (o.finish != SRV_FINISH_NONE) {
            out->finish = o.finish;
            out->usage = o.usage;
            if (o.finish == SRV_FINISH_ERROR) fprintf(stderr, "request error: %s\n", o.error);
            return;
        }
    }
}

static int32_t *encode(const char *text, int32_t *n) {
    int32_t *ids = NULL;
    size_t n_ids = 0;
    lk_error err;
    CHECK_OK(lk_tokenizer_encode(g_tok, text, strlen(text), true, false, &ids, &n_ids, &err), &err);
    *n = (int32_t)n_ids;
    return ids;
}

static bool is_eos(int32_t id) {
    const lk_hparams *hp = lk_model_hparams(g_model);
    for (int32_t i = 0; i < hp->n_eos; i++)
        if (hp->eos_ids[i] == id) return true;
    return id == lk_tokenizer_eos(g_tok);
}

/* The independent path: one context, lk_eval the prompt, argmax, lk_eval
 * each token; log-softmax of each chosen token. Returns tokens generated
 * (EOS not included); *hit_eos says whether it stopped at one. */
static int32_t reference_greedy(const int32_t *prompt, int32_t n_prompt, int32_t max_tokens,
                                int32_t *toks, float *logprob, bool *hit_eos) {
    lk_context *c = NULL;
    lk_error err;
    lk_context_params cp;
    lk_context_params_default(&cp);
    cp.n_ctx = 512;
    cp.kv_type = LK_DTYPE_F32;
    CHECK_OK(lk_context_new(g_model, &cp, &c, &err), &err);
    float *logits = malloc((size_t)g_n_vocab * sizeof *logits);
    CHECK_OK(lk_eval(c, prompt, n_prompt, LK_LOGITS_LAST, logits, &err), &err);
    int32_t n = 0;
    *hit_eos = false;
    while (n < max_tokens) {
        int32_t best = 0;
        double sum = 0;
        for (int32_t i = 1; i < g_n_vocab; i++)
            if (logits[i] > logits[best]) best = i;
        for (int32_t i = 0; i < g_n_vocab; i++) sum += exp((double)logits[i] - logits[best]);
        if (is_eos(best)) {
            *hit_eos = true;
            break;
        }
        toks[n] = best;
        logprob[n] = (float)(-log(sum));
        n++;
        if (n < max_tokens) CHECK_OK(lk_eval(c, &best, 1, LK_LOGITS_LAST, logits, &err), &err);
    }
    free(logits);
    lk_context_free(c);
    return n;
}

/* The same loop through an lk_sampler (penalties see the prompt, as in
 * cmd_run): what the scheduler must reproduce for any sampling settings. */
static int32_t reference_sampled(const int32_t *prompt, int32_t n_prompt, const lk_sampler_params *sp,
                                 int32_t max_tokens, int32_t *toks) {
    lk_context *c = NULL;
    lk_sampler *smp = NULL;
    lk_error err;
    lk_context_params cp;
    lk_context_params_default(&cp);
    cp.n_ctx = 512;
    cp.kv_type = LK_DTYPE_F32;
    CHECK_OK(lk_context_new(g_model, &cp, &c, &err), &err);
    CHECK_OK(lk_sampler_new(sp, g_n_vocab, &smp, &err), &err);
    if (!c || !smp) return 0;
    float *logits = malloc((size_t)g_n_vocab * sizeof *logits);
    CHECK_OK(lk_eval(c, prompt, n_prompt, LK_LOGITS_LAST, logits, &err), &err);
    for (int32_t i = 0; i < n_prompt; i++) lk_sampler_accept(smp, prompt[i]);
    int32_t n = 0;
    while (n < max_tokens) {
        int32_t t = lk_sampler_sample(smp, logits);
        if (is_eos(t)) break;
        lk_sampler_accept(smp, t);
        toks[n++] = t;
        if (n < max_tokens) CHECK_OK(lk_eval(c, &t, 1, LK_LOGITS_LAST, logits, &err), &err);
    }
    free(logits);
    lk_sampler_free(smp);
    lk_context_free(c);
    return n;
}

static char *decode(const int32_t *ids, int32_t n) {
    char *text = NULL;
    size_t len;
    lk_error err;
    CHECK_OK(lk_tokenizer_decode(g_tok, ids, (size_t)n, true, &text, &len, &err), &err);
    return text;
}

static srv_sched *new_sched(int32_t slots, int32_t n_ctx, int32_t queue, int32_t prefill) {
    srv_sched_params sp;
    srv_sched_params_default(&sp);
    sp.n_slots = slots;
    sp.n_ctx = n_ctx;
    sp.max_queue = queue;
    sp.n_prefill = prefill;
    /* F32 keys and values: batched and single-row products round a little
     * differently, and an F16 cache can turn that into a flipped greedy
     * near-tie on some CPUs; F32 keeps the comparisons exact. */
    sp.kv_type = LK_DTYPE_F32;
    srv_sched *s = NULL;
    lk_error err;
    CHECK_OK(srv_sched_new(g_model, g_tok, &sp, &s, &err), &err);
    return s;
}

static void greedy_params(srv_request_params *rp, const int32_t *prompt, int32_t n, int32_t max) {
    srv_request_params_default(rp);
    rp->prompt = prompt;
    rp->n_prompt = n;
    rp->max_tokens = max;
    rp->sampling.temperature = 0;
}

static srv_request *submit(srv_sched *s, const srv_request_params *rp) {
    srv_request *r = NULL;
    lk_error err;
    srv_submit_result res = srv_sched_submit(s, rp, &r, &err);
    CHECK_MSG(res == SRV_SUBMIT_OK, "submit -> %d: %s", (int)res, err.msg);
    return r;
}

/* Runs one request alone to its end. */
static void run_one(srv_sched *s, const srv_request_params *rp, bool greedy_top, result *out) {
    srv_request *r = submit(s, rp);
    if (!r) {
        memset(out, 0, sizeof *out);
        out->text = calloc(1, 1);
        return;
    }
    collect(r, greedy_top, out);
    srv_request_release(r);
}

static void sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
    nanosleep(&ts, NULL);
}

/* Waits (up to 10 s) until no slot is busy and nothing is queued. */
static bool wait_idle(srv_sched *s) {
    for (int i = 0; i < 10000; i++) {
        srv_sched_stats st;
        srv_sched_get_stats(s, &st);
        if (st.busy_slots == 0 && st.queued == 0) return true;
        sleep_us(1000);
    }
    return false;
}

static const char *const PROMPTS[8] = {
    "Once upon a time", "The little dog", "Tom and Sue went to the park", "One day, a bird",
    "Lily had a red ball", "The sun was hot", "Max liked to eat", "There was a big tree"};

/* ---------------------------------------------------------------- tests */

/* (1) and (6): greedy equals the reference loop; logprobs match its log-softmax. */
static void test_greedy_matches_reference(void) {
    int32_t n;
    int32_t *prompt = encode("Once upon a time", &n);
    static int32_t ref[64];
    static float ref_lp[64];
    bool eos;
    int32_t n_ref = reference_greedy(prompt, n, 64, ref, ref_lp, &eos);
    CHECK(n_ref > 20);
    char *ref_text = decode(ref, n_ref);

    srv_sched *s = new_sched(2, 512, 8, 256);
    if (!s) return;
    srv_request_params rp;
    greedy_params(&rp, prompt, n, 64);
    rp.logprobs = true;
    rp.top_logprobs = 5;
    result r;
    run_one(s, &rp, true, &r);
    CHECK_EQ_INT(r.n_tokens, n_ref);
    bool same = r.n_tokens == n_ref;
    double maxd = 0;
    for (int32_t i = 0; same && i < n_ref; i++) {
        same = r.tokens[i] == ref[i];
        maxd = fmax(maxd, fabs(r.logprob[i] - ref_lp[i]));
    }
    CHECK_MSG(same, "scheduler tokens differ from the lk_eval loop");
    CHECK_MSG(maxd < 1e-3, "logprob differs from the reference log-softmax by %g", maxd);
    CHECK_EQ_STR(r.text, ref_text);
    CHECK_EQ_INT(r.finish, eos ? SRV_FINISH_STOP : SRV_FINISH_LENGTH);
    CHECK_EQ_INT(r.usage.prompt_tokens, n);
    CHECK_EQ_INT(r.usage.cached_tokens, 0);
    CHECK_EQ_INT(r.usage.completion_tokens, n_ref + (eos ? 1 : 0));
    CHECK(r.usage.prompt_s > 0 && r.usage.generation_s > 0 && r.usage.queue_s >= 0);
    CHECK_MSG(r.logprobs_ok, "logprobs: top not sorted, sum exp > 1 or chosen != top[0]");

    /* max_tokens -> LENGTH with exactly that many tokens. */
    result r10;
    greedy_params(&rp, prompt, n, 10);
    run_one(s, &rp, false, &r10);
    CHECK_EQ_INT(r10.finish, SRV_FINISH_LENGTH);
    CHECK_EQ_INT(r10.n_tokens, 10);
    CHECK_EQ_INT(r10.usage.completion_tokens, 10);
    char *ref10 = decode(ref, 10);
    CHECK_EQ_STR(r10.text, ref10);

    /* A stop token (a chat template's end-of-turn id) ends the request like
     * EOS at its first occurrence: the tokens before it are the answer. */
    {
        int32_t k = 0;
        while (ref[k] != ref[7]) k++; /* the first place ref[7] appears */
        result rk;
        greedy_params(&rp, prompt, n, 64);
        rp.stop_tokens[0] = ref[7];
        rp.n_stop_tokens = 1;
        run_one(s, &rp, false, &rk);
        CHECK_EQ_INT(rk.finish, SRV_FINISH_STOP);
        CHECK_EQ_INT(rk.n_tokens, k);
        CHECK_EQ_INT(rk.usage.completion_tokens, k + 1);
        result_free(&rk);
    }

    /* A stop string from the middle of the answer cuts the text right before it. */
    size_t ref_len = strlen(ref_text);
    CHECK(ref_len > 40);
    char stop[8];
    memcpy(stop, ref_text + ref_len / 2, 5);
    stop[5] = '\0';
    const char *at = strstr(ref_text, stop);
    result rs;
    greedy_params(&rp, prompt, n, 64);
    rp.stops[0] = "never appears in the text";
    rp.stops[1] = stop;
    rp.n_stops = 2;
    run_one(s, &rp, false, &rs);
    CHECK_EQ_INT(rs.finish, SRV_FINISH_STOP);
    CHECK_EQ_INT(rs.len, at - ref_text);
    CHECK(strncmp(rs.text, ref_text, rs.len) == 0);
    CHECK(rs.n_tokens < n_ref);

    /* The context fills: LENGTH after n_ctx - n_prompt + 1 tokens. */
    srv_sched *small = new_sched(1, 64, 4, 256);
    if (small) {
        result rf;
        greedy_params(&rp, prompt, n, 0);
        rp.ignore_eos = true;
        run_one(small, &rp, false, &rf);
        CHECK_EQ_INT(rf.finish, SRV_FINISH_LENGTH);
        CHECK_EQ_INT(rf.usage.completion_tokens, 64 - n + 1);
        result_free(&rf);
        srv_sched_free(small);
    }

    /* A time limit already past: TIMEOUT. */
    result rt;
    greedy_params(&rp, prompt, n, 0);
    rp.ignore_eos = true;
    rp.time_limit_s = 1e-9;
    run_one(s, &rp, false, &rt);
    CHECK_EQ_INT(rt.finish, SRV_FINISH_TIMEOUT);

    /* Penalties (which see the prompt) and a seeded temperature draw: the
     * tokens the same sampler gives in a plain loop. */
    int32_t n_story;
    int32_t *story = encode("Once upon a time, there was a little girl named Lily. She loved to play "
                            "outside in the park with her friend. Lily and her friend", &n_story);
    static int32_t plain[40];
    float plain_lp[40];
    bool plain_eos;
    int32_t n_plain = reference_greedy(story, n_story, 40, plain, plain_lp, &plain_eos);
    for (int k = 0; k < 2; k++) {
        greedy_params(&rp, story, n_story, 40);
        if (k == 0) {
            rp.sampling.presence_penalty = 1.5f;
            rp.sampling.frequency_penalty = 0.5f;
            rp.sampling.repeat_penalty = 1.3f;
        } else {
            rp.sampling.temperature = 0.9f;
            rp.sampling.seed = 7;
        }
        static int32_t want[40];
        int32_t n_want = reference_sampled(story, n_story, &rp.sampling, 40, want);
        result rr;
        run_one(s, &rp, false, &rr);
        bool same = rr.n_tokens == n_want;
        for (int32_t i = 0; same && i < n_want; i++) same = rr.tokens[i] == want[i];
        CHECK_MSG(same, "sampling %d: the scheduler's tokens differ from the sampler loop's", k);
        if (k == 0) { /* and the penalties changed something */
            bool differs = n_want != n_plain;
            for (int32_t i = 0; !differs && i < n_want; i++) differs = want[i] != plain[i];
            CHECK(differs);
        }
        result_free(&rr);
    }
    free(story);

    /* Sampling with a temperature: the same seed, the same text. */
    result ra, rb;
    greedy_params(&rp, prompt, n, 30);
    rp.sampling.temperature = 1.0f;
    rp.sampling.seed = 42;
    run_one(s, &rp, false, &ra);
    run_one(s, &rp, false, &rb);
    CHECK_EQ_STR(ra.text, rb.text);
    CHECK_EQ_INT(ra.n_tokens, rb.n_tokens);

    srv_sched_stats st;
    srv_sched_get_stats(s, &st);
    CHECK_EQ_INT(st.requests_finished, 9);
    CHECK_EQ_INT(st.busy_slots, 0);
    CHECK_EQ_INT(st.n_slots, 2);
    CHECK(st.completion_tokens > 0 && st.prompt_tokens >= (uint64_t)(8 * n));
    srv_sched_free(s);
    result_free(&r), result_free(&r10), result_free(&rs), result_free(&rt);
    result_free(&ra), result_free(&rb);
    free(ref10);
    free(ref_text);
    free(prompt);
}

/* (2) Eight requests at once on four slots: each gives its text alone, and
 * several slots were busy together. */
static void test_batched_equals_alone(void) {
    srv_sched *s = new_sched(4, 256, 8, 256);
    if (!s) return;
    static int32_t *prompts[8];
    int32_t n[8];
    result alone[8], together[8];
    srv_request_params rp;
    for (int i = 0; i < 8; i++) {
        prompts[i] = encode(PROMPTS[i], &n[i]);
        greedy_params(&rp, prompts[i], n[i], 48);
        run_one(s, &rp, false, &alone[i]);
        CHECK(alone[i].n_tokens > 0);
    }
    srv_sched_stats before, after;
    srv_sched_get_stats(s, &before);
    CHECK_EQ_INT(before.decode_rows, before.decode_steps); /* one at a time so far */
    srv_request *rq[8];
    for (int i = 0; i < 8; i++) {
        greedy_params(&rp, prompts[i], n[i], 48);
        rq[i] = submit(s, &rp);
    }
    for (int i = 0; i < 8; i++) {
        if (!rq[i]) continue;
        collect(rq[i], false, &together[i]);
        srv_request_release(rq[i]);
        CHECK_MSG(!strcmp(together[i].text, alone[i].text), "request %d: together \"%s\", alone \"%s\"",
                  i, together[i].text, alone[i].text);
        CHECK_EQ_INT(together[i].n_tokens, alone[i].n_tokens);
        CHECK_EQ_INT(together[i].finish, alone[i].finish);
        result_free(&together[i]);
    }
    for (int i = 0; i < 8; i++) {
        result_free(&alone[i]);
        free(prompts[i]);
    }
    CHECK(wait_idle(s));
    /* Slots were decoded together: some pass held more than one sequence
     * (typically four; only a test thread stalled between every two submits
     * could see one at a time). */
    srv_sched_get_stats(s, &after);
    uint64_t steps = after.decode_steps - before.decode_steps;
    uint64_t rows = after.decode_rows - before.decode_rows;
    CHECK_MSG(steps > 0 && rows > steps, "%llu sequences in %llu decode passes",
              (unsigned long long)rows, (unsigned long long)steps);
    srv_sched_free(s);
}

/* (3) Cancelling mid-prefill, mid-generation and in the queue frees the slot. */
static void test_cancel(void) {
    /* One token per prefill chunk: a 500-token prompt takes 500 steps. */
    srv_sched *s = new_sched(1, 2048, 4, 1);
    if (!s) return;
    int32_t long_prompt[500];
    srv_request_params rp;
    result rc;
    /* Admitted (busy), then cancelled while its prompt is still evaluating.
     * A test thread descheduled for the whole prefill would miss it, so up
     * to five tries, each with a prompt the slot's cache does not hold. */
    bool mid_prefill = false;
    for (int attempt = 0; attempt < 5 && !mid_prefill; attempt++) {
        long_prompt[0] = lk_tokenizer_bos(g_tok) >= 0 ? lk_tokenizer_bos(g_tok) : 1;
        for (int i = 1; i < 500; i++) long_prompt[i] = 100 + (i * 7 + attempt) % 300;
        greedy_params(&rp, long_prompt, 500, 5);
        srv_request *r = submit(s, &rp);
        if (!r) break;
        srv_sched_stats st;
        for (int i = 0; i < 50000; i++) {
            srv_sched_get_stats(s, &st);
            if (st.busy_slots == 1 || st.requests_finished > (uint64_t)attempt) break;
            sleep_us(100);
        }
        srv_request_cancel(r);
        srv_request_cancel(r); /* twice is harmless */
        collect(r, false, &rc);
        mid_prefill = rc.finish == SRV_FINISH_CANCELLED && rc.usage.completion_tokens == 0;
        CHECK(rc.finish == SRV_FINISH_CANCELLED || rc.finish == SRV_FINISH_LENGTH ||
              rc.finish == SRV_FINISH_STOP);
        srv_request_release(r);
        CHECK(wait_idle(s));
        result_free(&rc);
    }
    CHECK_MSG(mid_prefill, "never cancelled mid-prefill in five tries");

    /* Mid-generation: cancel after the first output. */
    int32_t n;
    int32_t *prompt = encode("Once upon a time", &n);
    greedy_params(&rp, prompt, n, 0);
    rp.ignore_eos = true;
    srv_request *r = submit(s, &rp);
    srv_output o;
    bool got = false;
    while (!got && r && srv_request_wait(r, 20000, &o)) got = o.n_tokens > 0 || o.finish;
    CHECK(got && o.finish == SRV_FINISH_NONE);
    srv_request_cancel(r);
    collect(r, false, &rc);
    CHECK_EQ_INT(rc.finish, SRV_FINISH_CANCELLED);
    CHECK(rc.usage.completion_tokens > 0 && rc.usage.completion_tokens < 2048);
    srv_request_release(r);
    CHECK(wait_idle(s));
    result_free(&rc);

    /* Queued behind a long one, then cancelled; a released handle cancels too. */
    srv_request *busy = submit(s, &rp);
    srv_request *queued = submit(s, &rp);
    srv_output o2;
    srv_sched_stats st;
    srv_sched_get_stats(s, &st);
    if (st.queued == 1) /* (the long one still runs) */
        CHECK_MSG(!srv_request_wait(queued, 5, &o2), "a queued request had output");
    srv_request_cancel(queued);
    collect(queued, false, &rc);
    CHECK_EQ_INT(rc.finish, SRV_FINISH_CANCELLED);
    CHECK_EQ_INT(rc.usage.completion_tokens, 0);
    srv_request_release(queued);
    result_free(&rc);
    srv_request_release(busy);
    CHECK(wait_idle(s));

    /* The slot still works: the same greedy text as a fresh scheduler. */
    int32_t ref[40];
    float lp[40];
    bool eos;
    int32_t n_ref = reference_greedy(prompt, n, 40, ref, lp, &eos);
    char *ref_text = decode(ref, n_ref);
    greedy_params(&rp, prompt, n, 40);
    run_one(s, &rp, false, &rc);
    CHECK_EQ_STR(rc.text, ref_text);
    result_free(&rc);
    free(ref_text);

    /* Freeing the scheduler under a running request: it ends CANCELLED and
     * the handle stays readable until released. */
    greedy_params(&rp, prompt, n, 0);
    rp.ignore_eos = true;
    r = submit(s, &rp);
    srv_request *r2 = submit(s, &rp);
    srv_sched_free(s);
    collect(r, false, &rc);
    CHECK_EQ_INT(rc.finish, SRV_FINISH_CANCELLED);
    result_free(&rc);
    collect(r2, false, &rc);
    CHECK_EQ_INT(rc.finish, SRV_FINISH_CANCELLED);
    result_free(&rc);
    srv_request_cancel(r);
    srv_request_release(r);
    srv_request_release(r2);
    free(prompt);
}

/* (4) A prompt extending an earlier prompt and answer reuses the slot's
 * cache (and finds the right slot), with the answer a fresh scheduler gives. */
static void test_prefix_reuse(void) {
    srv_sched *s = new_sched(2, 512, 4, 256);
    srv_sched *fresh = new_sched(1, 512, 4, 256);
    if (!s || !fresh) {
        srv_sched_free(s);
        srv_sched_free(fresh);
        return;
    }
    int32_t n_a;
    int32_t *a = encode("Once upon a time", &n_a);
    srv_request_params rp;
    greedy_params(&rp, a, n_a, 30);
    result ra;
    run_one(s, &rp, false, &ra);
    CHECK_EQ_INT(ra.n_tokens, 30);

    /* Another conversation in between takes the other slot. */
    int32_t n_c;
    int32_t *c = encode("The little dog ran to the big house", &n_c);
    greedy_params(&rp, c, n_c, 10);
    result rc;
    run_one(s, &rp, false, &rc);

    /* Turn two: prompt + answer + more text. */
    int32_t n_more;
    int32_t *more = encode(" Then the cat said", &n_more);
    int32_t n_b = n_a + ra.n_tokens + (n_more - 1); /* without the second BOS */
    int32_t *b = malloc((size_t)n_b * sizeof *b);
    memcpy(b, a, (size_t)n_a * sizeof *b);
    memcpy(b + n_a, ra.tokens, (size_t)ra.n_tokens * sizeof *b);
    memcpy(b + n_a + ra.n_tokens, more + 1, (size_t)(n_more - 1) * sizeof *b);
    greedy_params(&rp, b, n_b, 30);
    result rb, rb_fresh;
    run_one(s, &rp, false, &rb);
    run_one(fresh, &rp, false, &rb_fresh);
    /* The cache holds the prompt and every answer token but the last (never evaluated). */
    CHECK_EQ_INT(rb.usage.cached_tokens, n_a + ra.n_tokens - 1);
    CHECK_EQ_INT(rb_fresh.usage.cached_tokens, 0);
    CHECK_EQ_STR(rb.text, rb_fresh.text);
    CHECK(rb.n_tokens > 0);

    /* The same prompt again: all of it but the last token is reused. */
    result rb2;
    run_one(s, &rp, false, &rb2);
    CHECK_EQ_INT(rb2.usage.cached_tokens, n_b - 1);
    CHECK_EQ_STR(rb2.text, rb.text);

    srv_sched_stats st;
    srv_sched_get_stats(s, &st);
    CHECK_EQ_INT(st.cached_tokens, (uint64_t)(rb.usage.cached_tokens + rb2.usage.cached_tokens +
                                              rc.usage.cached_tokens));
    result_free(&ra), result_free(&rb), result_free(&rb_fresh), result_free(&rb2), result_free(&rc);
    free(a), free(b), free(c), free(more);
    srv_sched_free(s);
    srv_sched_free(fresh);
}

/* (5) Submit refuses a full queue, a long prompt and bad input, saying why. */
static void test_submit_refusals(void) {
    srv_sched *s = new_sched(2, 256, 2, 256);
    if (!s) return;
    int32_t n;
    int32_t *prompt = encode("Once upon a time", &n);
    srv_request_params rp;
    greedy_params(&rp, prompt, n, 0);
    rp.ignore_eos = true; /* each runs until its context is full */
    srv_request *r[4];
    for (int i = 0; i < 4; i++) r[i] = submit(s, &rp);
    srv_request *extra = NULL;
    lk_error err;
    CHECK_EQ_INT(srv_sched_submit(s, &rp, &extra, &err), SRV_SUBMIT_QUEUE_FULL);
    CHECK(extra == NULL);
    CHECK_MSG(strstr(err.msg, "busy") != NULL, "%s", err.msg);
    for (int i = 0; i < 4; i++) srv_request_release(r[i]);
    CHECK(wait_idle(s));

    static int32_t long_prompt[300];
    for (int i = 0; i < 300; i++) long_prompt[i] = 1 + i % 200;
    greedy_params(&rp, long_prompt, 300, 10);
    CHECK_EQ_INT(srv_sched_submit(s, &rp, &extra, &err), SRV_SUBMIT_TOO_LONG);
    CHECK_MSG(strstr(err.msg, "300") && strstr(err.msg, "256"), "%s", err.msg);
    greedy_params(&rp, long_prompt, 256, 10);
    CHECK_EQ_INT(srv_sched_submit(s, &rp, &extra, &err), SRV_SUBMIT_TOO_LONG);

    int32_t bad[3] = {1, g_n_vocab, 5};
    greedy_params(&rp, bad, 3, 10);
    CHECK_EQ_INT(srv_sched_submit(s, &rp, &extra, &err), SRV_SUBMIT_INVALID);
    CHECK_MSG(strstr(err.msg, "vocabulary") != NULL, "%s", err.msg);
    bad[1] = -1;
    CHECK_EQ_INT(srv_sched_submit(s, &rp, &extra, &err), SRV_SUBMIT_INVALID);
    greedy_params(&rp, prompt, 0, 10);
    CHECK_EQ_INT(srv_sched_submit(s, &rp, &extra, &err), SRV_SUBMIT_INVALID);
    greedy_params(&rp, prompt, n, 10);
    rp.top_logprobs = SRV_MAX_TOP_LOGPROBS + 1;
    CHECK_EQ_INT(srv_sched_submit(s, &rp, &extra, &err), SRV_SUBMIT_INVALID);
    greedy_params(&rp, prompt, n, 10);
    lk_logit_bias lb = {g_n_vocab + 3, 1.0f};
    rp.sampling.logit_bias = &lb;
    rp.sampling.n_logit_bias = 1;
    CHECK_EQ_INT(srv_sched_submit(s, &rp, &extra, &err), SRV_SUBMIT_INVALID);
    CHECK(extra == NULL);

    /* Still serving: a prompt of exactly n_ctx - 1 tokens gets its one token. */
    greedy_params(&rp, long_prompt, 255, 10);
    rp.ignore_eos = true;
    result rl;
    run_one(s, &rp, false, &rl);
    CHECK_EQ_INT(rl.finish, SRV_FINISH_LENGTH);
    CHECK_EQ_INT(rl.usage.completion_tokens, 2);
    result_free(&rl);

    srv_sched_stats st;
    srv_sched_get_stats(s, &st);
    CHECK_EQ_INT(st.busy_slots, 0);
    CHECK_EQ_INT(st.queued, 0);
    CHECK_EQ_INT(st.requests_finished, 5);
    free(prompt);
    srv_sched_free(s);
}

int main(void) {
    const char *path = lk_test_fixture("gguf/stories260K.gguf");
    if (!path) lk_test_skip("fixture gguf/stories260K.gguf not found");
    lk_error err;
    lk_model_params mp;
    lk_model_params_default(&mp);
    mp.n_threads = 2;
    CHECK_OK(lk_model_load(path, &mp, &g_model, &err), &err);
    CHECK_OK(lk_tokenizer_load(path, &g_tok, &err), &err);
    if (!g_model || !g_tok) return lk_test_finish("test_scheduler");
    g_n_vocab = lk_model_hparams(g_model)->n_vocab;

    test_greedy_matches_reference();
    test_batched_equals_alone();
    test_cancel();
    test_prefix_reuse();
    test_submit_refusals();

    lk_tokenizer_free(g_tok);
    lk_model_free(g_model);
    return lk_test_finish("test_scheduler");
}
