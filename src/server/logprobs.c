/* Log-softmax in double: log p_i = l_i - (max + log sum exp(l_j - max)).
 * The top alternatives come from one pass with a small sorted array
 * (n_top <= 20), cheaper than sorting the vocabulary. */
#include "server/logprobs.h"

#include <math.h>
#include <string.h>

void srv_logprobs(const float *logits, int32_t n_vocab, int32_t chosen, int32_t n_top,
                  srv_token_info *out) {
    memset(out, 0, sizeof *out);
    if (n_top < 0) n_top = 0;
    if (n_top > SRV_MAX_TOP_LOGPROBS) n_top = SRV_MAX_TOP_LOGPROBS;
    if (n_top > n_vocab) n_top = n_vocab;
    float max = -INFINITY;
    for (int32_t i = 0; i < n_vocab; i++)
        if (logits[i] > max) max = logits[i];
    double sum = 0;
    if (isfinite(max))
        for (int32_t i = 0; i < n_vocab; i++) sum += exp((double)logits[i] - (double)max);
    double lse = isfinite(max) && sum > 0 ? (double)max + log(sum) : INFINITY;

    int32_t n = 0; /* out->top[0..n) sorted by logit, descending */
    for (int32_t i = 0; i < n_vocab && n_top > 0; i++) {
        float l = logits[i];
        if (n == n_top && !(l > out->top[n - 1].logprob)) continue;
        int32_t at = n < n_top ? n++ : n - 1;
        while (at > 0 && l > out->top[at - 1].logprob) {
            out->top[at] = out->top[at - 1];
            at--;
        }
        out->top[at].token = i;
        out->top[at].logprob = l;
    }
    for (int32_t k = 0; k < n; k++) out->top[k].logprob = (float)((double)out->top[k].logprob - lse);
    out->n_top = n;
    out->chosen.token = chosen;
    out->chosen.logprob = chosen >= 0 && chosen < n_vocab ? (float)((double)logits[chosen] - lse)
                                                          : -INFINITY;
}
