/* Token sampling: logit bias, repetition / presence / frequency penalties,
 * greedy, and top-k / top-p / min-p / temperature with a seeded RNG.
 *
 * The order follows llama.cpp's default chain, so the same settings pick from
 * the same candidates: bias, penalties, top-k, top-p, min-p (the last three
 * on temperature-1 probabilities), then temperature, then one draw. The RNG
 * is splitmix64 seeded per sampler, so a seed reproduces a run exactly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "llmkit.h"

typedef struct {
    float logit;
    int32_t id;
} candidate;

struct lk_sampler {
    lk_sampler_params p;
    int32_t n_vocab;
    lk_logit_bias *bias;  /* [n_logit_bias] own copy */
    int32_t *history;     /* ring of the last penalty_last_n tokens */
    int32_t n_history, history_next;
    int32_t *counts;      /* [n_vocab] scratch: occurrences in the window */
    candidate *cand;      /* [n_vocab] scratch */
    uint64_t rng;
};

void lk_sampler_params_default(lk_sampler_params *p) {
    memset(p, 0, sizeof *p);
    p->temperature = 0.8f;
    p->top_k = 40;
    p->top_p = 0.95f;
    p->min_p = 0.05f;
    p->repeat_penalty = 1.0f;
    p->penalty_last_n = 64;
    p->seed = 0x4c4c4d4b4954ull;
}

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static double uniform(uint64_t *state) { return (double)(splitmix64(state) >> 11) * 0x1.0p-53; }

lk_status lk_sampler_new(const lk_sampler_params *p, int32_t n_vocab, lk_sampler **out,
                         lk_error *err) {
    *out = NULL;
    if (n_vocab <= 0) return lk_error_set(err, LK_ERR_ARG, "sampler: vocabulary size %d", n_vocab);
    if (p->n_logit_bias < 0 || (p->n_logit_bias > 0 && !p->logit_bias))
        return lk_error_set(err, LK_ERR_ARG, "sampler: bad logit bias list");
    for (int32_t i = 0; i < p->n_logit_bias; i++)
        if (p->logit_bias[i].token < 0 || p->logit_bias[i].token >= n_vocab)
            return lk_error_set(err, LK_ERR_ARG, "sampler: logit bias for token %d, outside the "
                                "vocabulary (0..%d)", p->logit_bias[i].token, n_vocab - 1);
    if (isnan(p->temperature) || isnan(p->top_p) || isnan(p->min_p) || p->repeat_penalty <= 0)
        return lk_error_set(err, LK_ERR_ARG, "sampler: temperature, top-p and min-p must be "
                            "numbers and the repeat penalty > 0");
    lk_sampler *s = calloc(1, sizeof *s);
    if (!s) return lk_error_set(err, LK_ERR_NOMEM, "sampler: out of memory");
    s->p = *p;
    s->n_vocab = n_vocab;
    if (s->p.penalty_last_n < 0) s->p.penalty_last_n = 0;
    s->bias = calloc((size_t)p->n_logit_bias + 1, sizeof *s->bias);
    s->history = calloc((size_t)s->p.penalty_last_n + 1, sizeof *s->history);
    s->counts = calloc((size_t)n_vocab, sizeof *s->counts);
    s->cand = calloc((size_t)n_vocab, sizeof *s->cand);
    if (!s->bias || !s->history || !s->counts || !s->cand) {
        lk_sampler_free(s);
        return lk_error_set(err, LK_ERR_NOMEM, "sampler: out of memory");
    }
    if (p->n_logit_bias) memcpy(s->bias, p->logit_bias, (size_t)p->n_logit_bias * sizeof *s->bias);
    s->p.logit_bias = s->bias;
    lk_sampler_reset(s);
    *out = s;
    return LK_OK;
}

void lk_sampler_free(lk_sampler *s) {
    if (!s) return;
    free(s->bias);
    free(s->history);
    free(s->counts);
    free(s->cand);
    free(s);
}

void lk_sampler_reset(lk_sampler *s) {
    s->n_history = s->history_next = 0;
    s->rng = s->p.seed;
}

void lk_sampler_accept(lk_sampler *s, int32_t token) {
    if (s->p.penalty_last_n == 0 || token < 0 || token >= s->n_vocab) return;
    s->history[s->history_next] = token;
    s->history_next = (s->history_next + 1) % s->p.penalty_last_n;
    if (s->n_history < s->p.penalty_last_n) s->n_history++;
}

/* Penalties as llama.cpp applies them: for each distinct recent token,
 * divide a positive logit (multiply a non-positive one) by repeat_penalty,
 * then subtract frequency * count + presence. c[] is still indexed by id. */
static void apply_penalties(lk_sampler *s, candidate *c) {
    const lk_sampler_params *p = &s->p;
    if (s->n_history == 0 ||
        (p->repeat_penalty == 1.0f && p->presence_penalty == 0.0f && p->frequency_penalty == 0.0f))
        return;
    for (int32_t i = 0; i < s->n_history; i++) s->counts[s->history[i]]++;
    for (int32_t i = 0; i < s->n_history; i++) {
        int32_t t = s->history[i];
        int32_t cnt = s->counts[t];
        if (cnt == 0) continue; /* this token was already done */
        float v = c[t].logit;
        v = v > 0 ? v / p->repeat_penalty : v * p->repeat_penalty;
        v -= (float)cnt * p->frequency_penalty + p->presence_penalty;
        c[t].logit = v;
        s->counts[t] = 0;
    }
}

/* a ranks before b: higher logit, ties to the lower id (deterministic). */
static bool before(const candidate *a, const candidate *b) {
    return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static int by_logit_desc(const void *a, const void *b) {
    const candidate *x = a, *y = b;
    if (x->logit != y->logit) return x->logit > y->logit ? -1 : 1;
    return x->id - y->id; /* ties: lower id first, deterministic */
}

/* Moves the k best candidates (by `before`) to c[0..k), in no order: a
 * min-heap of the best k seen so far, its root the worst of them. */
static void sift_down(candidate *h, int32_t k, int32_t i) {
    for (;;) {
        int32_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < k && before(&h[w], &h[l])) w = l;
        if (r < k && before(&h[w], &h[r])) w = r;
        if (w == i) return;
        candidate t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

static void select_top(candidate *c, int32_t n, int32_t k) {
    for (int32_t i = k / 2 - 1; i >= 0; i--) sift_down(c, k, i);
    for (int32_t i = k; i < n; i++) {
        if (before(&c[i], &c[0])) { /* swap, so c stays a permutation */
            candidate t = c[0];
            c[0] = c[i];
            c[i] = t;
            sift_down(c, k, 0);
        }
    }
}

int32_t lk_sampler_sample(lk_sampler *s, const float *logits_in) {
    const lk_sampler_params *p = &s->p;
    const int32_t n = s->n_vocab;
    candidate *c = s->cand;
    /* Work on the candidate copy, never on the caller's logits. A NaN (a
     * broken model) becomes -inf, so every comparison below stays a total
     * order. */
    for (int32_t i = 0; i < n; i++)
        c[i] = (candidate){isnan(logits_in[i]) ? -INFINITY : logits_in[i], i};
    for (int32_t i = 0; i < p->n_logit_bias; i++)
        c[p->logit_bias[i].token].logit += p->logit_bias[i].bias;
    apply_penalties(s, c);

    if (p->temperature <= 0.0f) {
        int32_t best = 0;
        for (int32_t i = 1; i < n; i++)
            if (c[i].logit > c[best].logit) best = i;
        return best;
    }

    /* Narrowing. The survivors end up in c[0..m). Sorting goes only as far
     * as a rule needs: top-k and top-p look at the best tokens in order
     * (a selection pass, O(n log k), finds them), min-p only at a threshold;
     * with a vocabulary of 150k tokens a full sort per token would cost
     * milliseconds. */
    int32_t m = n;
    bool sorted = false;
    if (p->top_k > 0 && p->top_k < n) {
        m = p->top_k;
        select_top(c, n, m);
        qsort(c, (size_t)m, sizeof *c, by_logit_desc);
        sorted = true;
    }
    double max = -INFINITY;
    for (int32_t i = 0; i < m; i++)
        if (c[i].logit > max) max = c[i].logit;
    if (max == -INFINITY) return c[0].id; /* everything banned: nothing sensible */

    /* Probabilities at temperature 1 for top-p / min-p. */
    double sum = 0;
    for (int32_t i = 0; i < m; i++) sum += exp((double)c[i].logit - max);
    if (p->top_p < 1.0f) {
        /* The smallest best-first prefix holding top_p of the probability:
         * sort the best 64, 256, ... until the prefix is found. */
        int32_t k = sorted ? m : 64;
        for (;;) {
            if (k > m) k = m;
            if (!sorted) {
                select_top(c, m, k);
                qsort(c, (size_t)k, sizeof *c, by_logit_desc);
            }
            double cum = 0;
            int32_t keep = 0;
            for (int32_t i = 0; i < k && !keep; i++) {
                cum += exp((double)c[i].logit - max) / sum;
                if (cum >= p->top_p) keep = i + 1;
            }
            if (keep || k == m) { /* k == m: rounding kept cum below top_p */
                m = keep ? keep : m;
                break;
            }
            k = k > m / 4 ? m : k * 4;
        }
        sorted = true;
    }
    if (p->min_p > 0.0f) {
        /* keep tokens whose probability is at least min_p times the top one's */
        double floor_logit = max + log((double)p->min_p);
        int32_t keep = 0;
        if (sorted) {
            keep = 1;
            while (keep < m && c[keep].logit >= floor_logit) keep++;
        } else { /* partition in place (deterministic, no sort) */
            for (int32_t i = 0; i < m; i++)
                if (c[i].logit >= floor_logit) {
                    candidate t = c[keep];
                    c[keep++] = c[i];
                    c[i] = t;
                }
        }
        m = keep;
    }

    /* Temperature, then one draw from what is left. */
    double total = 0;
    for (int32_t i = 0; i < m; i++) total += exp(((double)c[i].logit - max) / p->temperature);
    double r = uniform(&s->rng) * total, acc = 0;
    for (int32_t i = 0; i < m; i++) {
        acc += exp(((double)c[i].logit - max) / p->temperature);
        if (r < acc) return c[i].id;
    }
    return c[m - 1].id;
}
