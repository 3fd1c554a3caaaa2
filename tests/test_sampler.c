/* Sampling: greedy, bias, penalties, top-k / top-p / min-p truncation,
 * temperature, and seeded reproducibility. Distributions are checked by
 * drawing many samples and comparing frequencies to the exact probabilities. */
#include <math.h>
#include <string.h>

#include "test.h"

static lk_sampler *make(lk_sampler_params *p, int32_t n_vocab) {
    lk_sampler *s = NULL;
    lk_error err;
    CHECK_OK(lk_sampler_new(p, n_vocab, &s, &err), &err);
    return s;
}

static lk_sampler_params plain(float temp) {
    lk_sampler_params p;
    lk_sampler_params_default(&p);
    p.temperature = temp;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    return p;
}

static void test_greedy_bias_penalties(void) {
    float logits[6] = {1.0f, 3.0f, 2.5f, -1.0f, 0.0f, 2.0f};
    float copy[6];
    memcpy(copy, logits, sizeof logits);
    lk_sampler_params p = plain(0.0f);
    lk_sampler *s = make(&p, 6);
    CHECK_EQ_INT(lk_sampler_sample(s, logits), 1);
    CHECK(memcmp(copy, logits, sizeof logits) == 0);
    lk_sampler_free(s);

    lk_logit_bias bias[2] = {{1, -INFINITY}, {4, 2.6f}};
    p.logit_bias = bias;
    p.n_logit_bias = 2;
    s = make(&p, 6);
    CHECK_EQ_INT(lk_sampler_sample(s, logits), 4); /* 0 + 2.6 beats 2.5 */
    lk_sampler_free(s);
    p.n_logit_bias = 0;
    p.logit_bias = NULL;

    /* Repeat penalty 2: logit 3 -> 1.5, so 2.5 wins; a negative logit grows. */
    p.repeat_penalty = 2.0f;
    s = make(&p, 6);
    lk_sampler_accept(s, 1);
    CHECK_EQ_INT(lk_sampler_sample(s, logits), 2);
    lk_sampler_accept(s, 2);
    CHECK_EQ_INT(lk_sampler_sample(s, logits), 5);
    lk_sampler_reset(s);
    CHECK_EQ_INT(lk_sampler_sample(s, logits), 1);
    lk_sampler_free(s);

    /* Frequency counts occurrences, presence counts once: 3 - 3*0.2 = 2.4 < 2.5;
     * with presence 0.4 alone: 2.6 > 2.5. */
    p.repeat_penalty = 1.0f;
    p.frequency_penalty = 0.2f;
    s = make(&p, 6);
    for (int i = 0; i < 3; i++) lk_sampler_accept(s, 1);
    CHECK_EQ_INT(lk_sampler_sample(s, logits), 2);
    lk_sampler_free(s);
    p.frequency_penalty = 0.0f;
    p.presence_penalty = 0.4f;
    s = make(&p, 6);
    for (int i = 0; i < 3; i++) lk_sampler_accept(s, 1);
    CHECK_EQ_INT(lk_sampler_sample(s, logits), 1);
    lk_sampler_free(s);
    /* Only the last penalty_last_n tokens count. */
    p.presence_penalty = 0.0f;
    p.repeat_penalty = 2.0f;
    p.penalty_last_n = 2;
    s = make(&p, 6);
    lk_sampler_accept(s, 1);
    lk_sampler_accept(s, 0);
    lk_sampler_accept(s, 0);
    CHECK_EQ_INT(lk_sampler_sample(s, logits), 1);
    lk_sampler_free(s);

    /* NaN logits are never picked, greedy or sampled. */
    {
        float nanl[4] = {NAN, 1.0f, NAN, 0.5f};
        lk_sampler_params q = plain(0.0f);
        lk_sampler *g = make(&q, 4);
        CHECK_EQ_INT(lk_sampler_sample(g, nanl), 1);
        lk_sampler_free(g);
        q = plain(1.0f);
        q.top_p = 0.99f;
        g = make(&q, 4);
        int bad = 0;
        for (int i = 0; i < 200; i++) {
            int t = lk_sampler_sample(g, nanl);
            bad += t != 1 && t != 3;
        }
        CHECK_EQ_INT(bad, 0);
        lk_sampler_free(g);
    }

    /* Bad parameters are refused. */
    lk_logit_bias badb = {6, 1.0f};
    p.logit_bias = &badb;
    p.n_logit_bias = 1;
    lk_sampler *none;
    lk_error err;
    CHECK(lk_sampler_new(&p, 6, &none, &err) == LK_ERR_ARG);
    CHECK(none == NULL);
}

/* Frequencies of `draws` samples against expected probabilities. */
static void check_distribution(lk_sampler_params *p, const float *logits, int n,
                               const double *want, const char *what) {
    lk_sampler *s = make(p, n);
    if (!s) return;
    enum { DRAWS = 40000 };
    int counts[16] = {0};
    for (int i = 0; i < DRAWS; i++) {
        int t = lk_sampler_sample(s, logits);
        CHECK(t >= 0 && t < n);
        if (t >= 0 && t < n) counts[t]++;
    }
    for (int i = 0; i < n; i++) {
        double f = (double)counts[i] / DRAWS;
        CHECK_MSG(fabs(f - want[i]) < 0.01 && (want[i] > 0 || counts[i] == 0),
                  "%s: token %d drawn %.4f, expected %.4f", what, i, f, want[i]);
    }
    lk_sampler_free(s);
}

static void test_distributions(void) {
    float logits[4] = {logf(0.5f), logf(0.3f), logf(0.15f), logf(0.05f)};
    lk_sampler_params p = plain(1.0f);
    double full[4] = {0.5, 0.3, 0.15, 0.05};
    check_distribution(&p, logits, 4, full, "temperature 1");
    p.top_k = 2;
    double k2[4] = {0.625, 0.375, 0, 0};
    check_distribution(&p, logits, 4, k2, "top-k 2");
    p.top_k = 0;
    p.top_p = 0.9f; /* 0.5 + 0.3 + 0.15 = 0.95 >= 0.9: three stay */
    double p9[4] = {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0};
    check_distribution(&p, logits, 4, p9, "top-p 0.9");
    p.top_p = 1.0f;
    p.min_p = 0.35f; /* keep p >= 0.175 */
    double m35[4] = {0.625, 0.375, 0, 0};
    check_distribution(&p, logits, 4, m35, "min-p 0.35");
    p.min_p = 0.0f;
    p.temperature = 0.5f; /* p^2 normalised */
    double z = 0.25 + 0.09 + 0.0225 + 0.0025;
    double t05[4] = {0.25 / z, 0.09 / z, 0.0225 / z, 0.0025 / z};
    check_distribution(&p, logits, 4, t05, "temperature 0.5");
}

static void test_seed(void) {
    enum { V = 1000 };
    static float logits[V];
    for (int i = 0; i < V; i++) logits[i] = sinf((float)i * 0.37f) * 3.0f;
    lk_sampler_params p;
    lk_sampler_params_default(&p);
    p.seed = 42;
    lk_sampler *a = make(&p, V), *b = make(&p, V);
    p.seed = 43;
    lk_sampler *c = make(&p, V);
    int same_ab = 1, same_ac = 1;
    int first[100];
    for (int i = 0; i < 100; i++) {
        int ta = lk_sampler_sample(a, logits), tb = lk_sampler_sample(b, logits),
            tc = lk_sampler_sample(c, logits);
        first[i] = ta;
        same_ab &= ta == tb;
        same_ac &= ta == tc;
    }
    CHECK(same_ab);
    CHECK(!same_ac);
    lk_sampler_reset(a);
    int again = 1;
    for (int i = 0; i < 100; i++) again &= lk_sampler_sample(a, logits) == first[i];
    CHECK(again);
    lk_sampler_free(a);
    lk_sampler_free(b);
    lk_sampler_free(c);
}

/* top-k on a large vocabulary: never draws outside the k best. */
static void test_topk_selection(void) {
    enum { V = 5000, K = 7 };
    static float logits[V];
    for (int i = 0; i < V; i++) logits[i] = (float)((i * 7919) % V) / 100.0f;
    /* The K best are the ids whose (i*7919)%V is V-1..V-K. */
    lk_sampler_params p = plain(5.0f);
    p.top_k = K;
    lk_sampler *s = make(&p, V);
    int bad = 0;
    for (int i = 0; i < 2000; i++) {
        int t = lk_sampler_sample(s, logits);
        if ((t * 7919) % V < V - K) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    lk_sampler_free(s);
}

/* Without top-k, top-p and min-p on a large vocabulary take their partial
 * paths (best 64, then 256, ... sorted; min-p by partition): the tokens
 * drawn must be exactly those the rules allow, reached beyond the first 64. */
static void test_large_vocab_truncation(void) {
    enum { V = 5000 };
    static float logits[V];
    for (int i = 0; i < V; i++) logits[(i * 7) % V] = -0.01f * (float)i; /* rank i at id 7i mod V */
    /* top-p 0.9: the smallest prefix of ranks with mass >= 0.9 */
    double z = 0, cum = 0;
    for (int i = 0; i < V; i++) z += exp(-0.01 * i);
    int k_ref = 0;
    while (cum < 0.9) cum += exp(-0.01 * k_ref++) / z;
    lk_sampler_params p = plain(1.0f);
    p.top_p = 0.9f;
    lk_sampler *s = make(&p, V);
    int worst = 0, bad = 0;
    for (int i = 0; i < 5000; i++) {
        int t = lk_sampler_sample(s, logits);
        int rank = 0;
        while ((rank * 7) % V != t) rank++;
        if (rank >= k_ref) bad++;
        if (rank > worst) worst = rank;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_MSG(worst > 64, "top-p never drew past rank 64 (worst %d, prefix %d)", worst, k_ref);
    lk_sampler_free(s);
    /* min-p 0.5: ranks with -0.01 rank >= ln 0.5, i.e. rank <= 69 */
    p.top_p = 1.0f;
    p.min_p = 0.5f;
    s = make(&p, V);
    worst = bad = 0;
    for (int i = 0; i < 5000; i++) {
        int t = lk_sampler_sample(s, logits);
        int rank = 0;
        while ((rank * 7) % V != t) rank++;
        if (rank > 69) bad++;
        if (rank > worst) worst = rank;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(worst > 60);
    lk_sampler_free(s);
}

int main(void) {
    test_greedy_bias_penalties();
    test_distributions();
    test_seed();
    test_topk_selection();
    test_large_vocab_truncation();
    return lk_test_finish("test_sampler");
}
