/* lk_perplexity: llama-perplexity's chunked method.
 *
 * The PPL must equal exp of the mean NLL recomputed here from lk_eval's
 * logits with an independent log-softmax (all in double), over exactly the
 * tokens llama.cpp scores (second half of each chunk, BOS first); the
 * llama.cpp-quantized Q8_0 model must be within 1% of the F32 one; a text
 * shorter than two chunks is refused. Text: tests/data/tiny_stories.txt. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mmap.h"
#include "quantize/perplexity.h"
#include "test.h"

#define N_CTX 128
#define MAX_CHUNKS 4

static double reference_ppl(lk_model *m, const int32_t *ids, int32_t bos) {
    const int32_t V = lk_model_hparams(m)->n_vocab;
    lk_context_params cp;
    lk_context_params_default(&cp);
    cp.n_ctx = N_CTX;
    lk_context *c = NULL;
    lk_error err;
    CHECK_OK(lk_context_new(m, &cp, &c, &err), &err);
    if (!c) return NAN;
    float *logits = malloc((size_t)V * sizeof *logits);
    double sum = 0;
    long count = 0;
    for (int k = 0; k < MAX_CHUNKS; k++) {
        lk_context_reset(c);
        /* One token at a time this time: also checks the batched path. */
        for (int j = 0; j < N_CTX - 1; j++) {
            int32_t tok = j == 0 ? bos : ids[k * N_CTX + j];
            CHECK_OK(lk_eval(c, &tok, 1, LK_LOGITS_LAST, logits, &err), &err);
            if (j < N_CTX / 2) continue;
            double mx = -INFINITY, z = 0;
            for (int v = 0; v < V; v++) mx = fmax(mx, logits[v]);
            for (int v = 0; v < V; v++) z += exp((double)logits[v] - mx);
            sum += -(((double)logits[ids[k * N_CTX + j + 1]] - mx) - log(z));
            count++;
        }
    }
    free(logits);
    lk_context_free(c);
    return exp(sum / (double)count);
}

static double ppl_of(const char *path, const int32_t *ids, size_t n, int32_t bos, bool check_ref) {
    lk_error err;
    lk_model *m = NULL;
    CHECK_OK(lk_model_load(path, NULL, &m, &err), &err);
    if (!m) return NAN;
    lk_perplexity_params p = {.n_ctx = N_CTX, .bos_id = bos, .max_chunks = MAX_CHUNKS};
    lk_perplexity_result r = {0};
    CHECK_OK(lk_perplexity(m, ids, (int64_t)n, &p, &r, &err), &err);
    CHECK_EQ_INT(r.n_chunks, MAX_CHUNKS);
    CHECK_EQ_INT(r.count, MAX_CHUNKS * (N_CTX - 1 - N_CTX / 2));
    CHECK(r.ppl_error > 0 && r.ppl_error < r.ppl);
    if (check_ref) {
        const double ref = reference_ppl(m, ids, bos);
        printf("%s: PPL %.6f (recomputed %.6f) +/- %.5f\n", path, r.ppl, ref, r.ppl_error);
        CHECK_MSG(fabs(r.ppl - ref) <= 1e-4 * ref, "PPL %.6f, recomputed %.6f", r.ppl, ref);
    }
    /* Too little text for two chunks. */
    p.n_ctx = (int32_t)(n / 2 + 2);
    p.n_ctx += p.n_ctx % 2;
    CHECK_EQ_INT(lk_perplexity(m, ids, (int64_t)n, &p, &r, &err), LK_ERR_RANGE);
    CHECK(strstr(err.msg, "needs at least") != NULL);
    lk_model_free(m);
    return r.ppl;
}

int main(void) {
    const char *f32 = lk_test_fixture("gguf/stories260K-ffn192.gguf");
    const char *q8 = lk_test_fixture("gguf/stories260K-ffn192-Q8_0.gguf");
    if (!f32) lk_test_skip("fixture gguf/stories260K-ffn192.gguf not found");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/tiny_stories.txt", lk_test_source_dir());
    lk_error err;
    char *text = NULL;
    size_t len = 0;
    CHECK_OK(lk_read_file(path, 1 << 20, &text, &len, &err), &err);
    lk_tokenizer *tok = NULL;
    CHECK_OK(lk_tokenizer_load(f32, &tok, &err), &err);
    int32_t *ids = NULL;
    size_t n = 0;
    if (tok && text) CHECK_OK(lk_tokenizer_encode(tok, text, len, true, false, &ids, &n, &err), &err);
    CHECK(n >= MAX_CHUNKS * N_CTX);
    if (n >= MAX_CHUNKS * N_CTX) {
        const int32_t bos = lk_tokenizer_bos(tok);
        CHECK_EQ_INT(ids[0], bos);
        const double a = ppl_of(f32, ids, n, bos, true);
        if (q8) {
            const double b = ppl_of(q8, ids, n, bos, false);
            printf("F32 PPL %.4f, Q8_0 PPL %.4f (%.3f%%)\n", a, b, 100.0 * (b - a) / a);
            CHECK_MSG(fabs(b - a) <= 0.01 * a, "Q8_0 PPL %.4f vs F32 %.4f", b, a);
        }
    }
    free(ids);
    free(text);
    lk_tokenizer_free(tok);
    return lk_test_finish("test_perplexity");
}
