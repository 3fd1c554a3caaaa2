/* A Q4_0, a Q5_0 and a Q8_0 model (llama.cpp-quantized stories260K fixtures) give
 * the same logits whether their matrices are packed at load (quant_pack.h;
 * the file pages then let go) or multiplied as stored (no_repack): a
 * 17-token prompt (every prompt tile), decode steps, and three sequences
 * decoded together, on one thread and on two.
 *
 * "The same" up to float rounding, which the model amplifies: the two
 * roads sum a row's blocks in different orders, and a difference of one
 * ulp can move an activation across a Q8_0 rounding boundary in the next
 * layer, which moves logits by ~1e-3 of their range (measured: up to 4e-3
 * on this model). A wrong packing or a matrix left out moves them by their
 * whole range; the kernels themselves are held to the scalar dots to 1e-5
 * in test_quant_pack, and here every matrix of the loaded model is: its
 * packed product against the scalar product over its stored rows (which,
 * the file pages having been let go, come back from the file). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmkit.h"
#include "model/model_internal.h"
#include "tensor/matmul.h"
#include "tensor/quant_pack.h"
#include "test.h"

enum { N_PROMPT = 17, N_STEPS = 4, N_SEQS = 3 };

/* logits of the prompt (all rows), then N_STEPS single tokens, then one
 * lk_eval_multi step of N_SEQS contexts: (N_PROMPT + N_STEPS + N_SEQS) rows. */
static float *run(const char *path, bool no_repack, int threads, int32_t *n_vocab) {
    lk_model_params mp;
    lk_model_params_default(&mp);
    mp.n_threads = threads;
    mp.no_repack = no_repack;
    lk_model *m = NULL;
    lk_error err;
    CHECK_OK(lk_model_load(path, &mp, &m, &err), &err);
    if (!m) return NULL;
    const int32_t nv = lk_model_hparams(m)->n_vocab;
    *n_vocab = nv;
    float *out = malloc((size_t)(N_PROMPT + N_STEPS + N_SEQS) * (size_t)nv * sizeof(float));
    int32_t prompt[N_PROMPT];
    for (int i = 0; i < N_PROMPT; i++) prompt[i] = (i * 37 + 5) % nv;
    lk_context *c[N_SEQS] = {NULL};
    for (int s = 0; s < N_SEQS; s++) CHECK_OK(lk_context_new(m, NULL, &c[s], &err), &err);
    CHECK_OK(lk_eval(c[0], prompt, N_PROMPT, LK_LOGITS_ALL, out, &err), &err);
    for (int i = 0; i < N_STEPS; i++) {
        const int32_t tok = (i * 101 + 7) % nv;
        CHECK_OK(lk_eval(c[0], &tok, 1, LK_LOGITS_LAST, out + (size_t)(N_PROMPT + i) * nv, &err),
                 &err);
    }
    for (int s = 1; s < N_SEQS; s++)
        CHECK_OK(lk_eval(c[s], prompt, 3 + s, LK_LOGITS_NONE, NULL, &err), &err);
    const int32_t toks[N_SEQS] = {11, 22, 33};
    CHECK_OK(lk_eval_multi(c, toks, N_SEQS, out + (size_t)(N_PROMPT + N_STEPS) * nv, &err), &err);
    for (int s = 0; s < N_SEQS; s++) lk_context_free(c[s]);
    lk_model_free(m);
    return out;
}

typedef struct {
    const lk_kernels *kern;
    int packed, bad;
} matrix_check;

static uint32_t rng = 12345u;
static float rand_unit(void) { return lk_test_rand_unit(&rng); }

/* One matrix of the model: packed (when its dtype packs) and its product
 * for 1 and 6 tokens equal to the scalar table's over the stored rows. */
static void check_matrix(void *ctx, const lk_matrix *w) {
    matrix_check *mc = ctx;
    if (!lk_kernels_dtype(mc->kern, w->dtype)->packed_matmul) return;
    mc->packed++;
    if (!w->packed) {
        mc->bad++;
        return;
    }
    const int64_t m = 6, n = w->rows, k = w->cols;
    float *x = malloc((size_t)(m * k) * sizeof(float));
    float *y = malloc((size_t)(m * n) * sizeof(float)), *y_ref = malloc((size_t)(m * n) * sizeof(float));
    void *scratch = malloc(lk_matmul_scratch_bytes(mc->kern, w->dtype, m, k, 1));
    for (int64_t i = 0; i < m * k; i++) x[i] = rand_unit();
    lk_matrix stored = *w;
    stored.packed = NULL;
    for (int64_t mm = 1; mm <= m; mm += m - 1) {
        lk_matmul(NULL, mc->kern, w, x, mm, y, scratch);
        lk_matmul(NULL, lk_kernels_ref(), &stored, x, mm, y_ref, scratch);
        for (int64_t i = 0; i < mm * n; i++) {
            double scale = 0;
            uint64_t rb = w->row_bytes;
            float *row = malloc((size_t)k * sizeof(float));
            lk_kernels_dtype(mc->kern, w->dtype)->to_f32(k, (const char *)w->data + (size_t)(i % n) * rb, row);
            for (int64_t c = 0; c < k; c++) scale += fabs((double)row[c] * x[(i / n) * k + c]);
            free(row);
            mc->bad += !(fabs(y[i] - y_ref[i]) <= 1e-5 * scale + 1e-6);
        }
    }
    free(x);
    free(y);
    free(y_ref);
    free(scratch);
}

static void check_model(const char *rel) {
    const char *p = lk_test_fixture(rel);
    if (!p) {
        fprintf(stderr, "test_model_repack: fixture %s absent, skipped\n", rel);
        return;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s", p);
    lk_model *model = NULL;
    lk_error err;
    CHECK_OK(lk_model_load(path, NULL, &model, &err), &err);
    if (model) {
        matrix_check mc = {model->kern, 0, 0};
        lk_weights_each_matrix(&model->w, check_matrix, &mc);
        CHECK_MSG(mc.packed > 0 && mc.bad == 0, "%s: %d of %d matrices not packed or wrong", rel,
                  mc.bad, mc.packed);
        lk_model_free(model);
    }
    int32_t nv = 0;
    float *stored = run(path, true, 1, &nv);
    for (int threads = 1; threads <= 2; threads++) {
        float *packed = run(path, false, threads, &nv);
        if (!stored || !packed) break;
        const size_t rows = N_PROMPT + N_STEPS + N_SEQS;
        int bad = 0;
        double worst = 0;
        for (size_t r = 0; r < rows; r++) {
            float range = 0;
            double sum = 0;
            for (int32_t v = 0; v < nv; v++) range = fmaxf(range, fabsf(stored[r * nv + v]));
            for (int32_t v = 0; v < nv; v++) {
                const double d = fabs((double)stored[r * nv + v] - packed[r * nv + v]);
                sum += d;
                if (d / range > worst) worst = d / range;
                bad += !(d <= 2e-2 * range);
            }
            bad += !(sum / nv <= 1e-2 * range);
        }
        fprintf(stderr, "%s, %d threads: largest difference %.2g of the logits' range\n", rel,
                threads, worst);
        CHECK_MSG(bad == 0, "%s (%d threads): %d logits differ between packed and stored", rel,
                  threads, bad);
        free(packed);
    }
    free(stored);
}

int main(void) {
    if (!lk_packed_matmul_for(LK_DTYPE_Q4_0))
        lk_test_skip("no packed kernel on this CPU (needs AVX-512 VNNI): nothing is repacked");
    if (!lk_test_fixtures()) lk_test_skip("fixtures absent (../shared/fixtures or LLMKIT_FIXTURES)");
    check_model("gguf/stories260K-ffn192-Q4_0.gguf");
    check_model("gguf/stories260K-ffn192-Q5_0.gguf");
    check_model("gguf/stories260K-ffn192-Q8_0.gguf");
    return lk_test_finish("test_model_repack");
}
