/* Chunked perplexity (see perplexity.h). */
#include "quantize/perplexity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

double lk_nll_of(const float *logits, int32_t n_vocab, int32_t target) {
    float max = logits[0];
    for (int32_t i = 1; i < n_vocab; i++)
        if (logits[i] > max) max = logits[i];
    double sum = 0.0;
    for (int32_t i = 0; i < n_vocab; i++) sum += expf(logits[i] - max);
    return -((double)(logits[target] - max) - log(sum));
}

lk_status lk_perplexity(const lk_model *m, const int32_t *tokens, int64_t n_tokens,
                        const lk_perplexity_params *p, lk_perplexity_result *out, lk_error *err) {
    if (!m || !tokens || !p || !out)
        return lk_error_set(err, LK_ERR_ARG, "lk_perplexity: missing argument");
    const int32_t n_ctx = p->n_ctx;
    if (n_ctx < 4 || n_ctx % 2 != 0)
        return lk_error_set(err, LK_ERR_ARG, "perplexity: context %d must be even and >= 4",
                            (int)n_ctx);
    if (n_tokens < 2 * (int64_t)n_ctx)
        return lk_error_set(err, LK_ERR_RANGE,
                            "perplexity: the text has %lld tokens, but a context of %d needs at "
                            "least %d (use a longer text or a smaller --ctx)",
                            (long long)n_tokens, (int)n_ctx, 2 * (int)n_ctx);
    int64_t n_chunks = n_tokens / n_ctx;
    if (p->max_chunks > 0 && n_chunks > p->max_chunks) n_chunks = p->max_chunks;
    const int32_t V = lk_model_hparams(m)->n_vocab;

    lk_context_params cp;
    lk_context_params_default(&cp);
    cp.n_ctx = n_ctx;
    lk_context *c = NULL;
    lk_status st = lk_context_new(m, &cp, &c, err);
    if (st) return st;
    float *logits = malloc((size_t)n_ctx * (size_t)V * sizeof *logits);
    int32_t *chunk = malloc((size_t)n_ctx * sizeof *chunk);
    if (!logits || !chunk) {
        st = lk_error_set(err, LK_ERR_NOMEM, "perplexity: out of memory for %d x %d logits",
                          (int)n_ctx, (int)V);
        goto done;
    }
    const int32_t first = n_ctx / 2;
    double nll = 0.0, nll2 = 0.0;
    int64_t count = 0;
    for (int64_t i = 0; i < n_chunks; i++) {
        memcpy(chunk, tokens + i * n_ctx, (size_t)n_ctx * sizeof *chunk);
        if (p->bos_id >= 0) chunk[0] = p->bos_id;
        lk_context_reset(c);
        if ((st = lk_eval(c, chunk, n_ctx, LK_LOGITS_ALL, logits, err))) goto done;
        /* Position j predicts the text's token j + 1 (the original stream:
         * only position 0 was replaced by BOS, and it is never a target). */
        for (int32_t j = first; j < n_ctx - 1; j++) {
            const double v = lk_nll_of(logits + (size_t)j * V, V, chunk[j + 1]);
            nll += v;
            nll2 += v * v;
        }
        count += n_ctx - 1 - first;
        if (p->on_chunk) p->on_chunk(p->on_chunk_ctx, (int32_t)i, (int32_t)n_chunks, exp(nll / count));
    }
    lk_perplexity_result r = {0};
    r.count = count;
    r.n_chunks = (int32_t)n_chunks;
    r.mean_nll = nll / count;
    r.ppl = exp(r.mean_nll);
    const double var = nll2 / count - r.mean_nll * r.mean_nll;
    r.ppl_error = var > 0 && count > 1 ? sqrt(var / (count - 1)) * r.ppl : 0.0;
    *out = r;
done:
    free(logits);
    free(chunk);
    lk_context_free(c);
    return st;
}
