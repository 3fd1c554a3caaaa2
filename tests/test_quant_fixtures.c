/* Quantization against real llama.cpp-quantized models.
 *
 * The fixtures stories260K-ffn192-<TYPE>.gguf were written by llama-quantize
 * from stories260K-ffn192.gguf (F32). For every quantized tensor in them:
 * llmkit quantizing the F32 tensor must give the same bytes; the type
 * llama.cpp chose must be the one lk_quant_mix_type predicts; and the
 * dequantized tensor must be close to the F32 one (relative RMSE per type). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "format/gguf.h"
#include "tensor/dtype.h"
#include "tensor/quant.h"
#include "tensor/quant_mix.h"
#include "test.h"

/* Relative RMSE bound per type: about 1.5x the worst tensor in these files
 * (Q8_0 0.0062, Q5_0 0.050, Q5_1 0.042, Q4_0 0.096, Q4_1 0.088). */
static double rmse_bound(lk_dtype t) {
    switch (t) {
    case LK_DTYPE_Q8_0: return 0.01;
    case LK_DTYPE_Q5_0:
    case LK_DTYPE_Q5_1: return 0.075;
    case LK_DTYPE_Q4_0:
    case LK_DTYPE_Q4_1: return 0.15;
    default: return 0;
    }
}

static lk_quant_mix_model model_info(const lk_gguf *g) {
    lk_quant_mix_model m = {0};
    uint32_t n_layer = 0, n_head = 1, n_head_kv = 1;
    lk_gguf_get_u32(g, "llama.block_count", &n_layer);
    lk_gguf_get_u32(g, "llama.attention.head_count", &n_head);
    lk_gguf_get_u32(g, "llama.attention.head_count_kv", &n_head_kv);
    m.n_layer = (int32_t)n_layer;
    m.n_gqa = n_head_kv ? (int32_t)(n_head / n_head_kv) : 1;
    m.tied_embeddings = lk_gguf_find_tensor(g, "output.weight") == NULL;
    for (size_t i = 0; i < lk_gguf_tensor_count(g); i++) {
        const char *name = lk_gguf_tensor_at(g, i)->name;
        if (strstr(name, "attn_v.weight") || strstr(name, "attn_qkv.weight")) m.n_attn_v++;
    }
    return m;
}

static void check_file(const lk_gguf *src, const char *label) {
    char rel[128];
    snprintf(rel, sizeof rel, "gguf/stories260K-ffn192-%s.gguf", label);
    const char *path = lk_test_fixture(rel);
    if (!path) {
        fprintf(stderr, "test_quant_fixtures: %s missing, skipped\n", rel);
        return;
    }
    lk_error err;
    lk_gguf *q = NULL;
    CHECK_OK(lk_gguf_open(path, &q, &err), &err);
    if (!q) return;
    uint32_t ftype = 0;
    CHECK(lk_gguf_get_u32(q, "general.file_type", &ftype));
    const lk_quant_mix_model mm = model_info(src);
    int exact[64] = {0}, total = 0;
    for (size_t i = 0; i < lk_gguf_tensor_count(q); i++) {
        const lk_gguf_tensor *t = lk_gguf_tensor_at(q, i);
        const lk_gguf_tensor *s = lk_gguf_find_tensor(src, t->name);
        CHECK_MSG(s && s->type == LK_DTYPE_F32, "%s: %s not F32 in the source", label, t->name);
        if (!s || s->type != LK_DTYPE_F32) continue;
        /* The mix rule picks llama.cpp's type for every tensor. */
        const lk_dtype want =
            lk_quant_mix_type((lk_ftype)ftype, &mm, t->name, s->n_dims, s->ne, s->type);
        CHECK_MSG(want == t->type, "%s %s: mix rule says %s, llama.cpp wrote %s", label, t->name,
                  lk_dtype_name(want), lk_dtype_name(t->type));
        if (t->type == LK_DTYPE_F32) continue;
        const int64_t n = s->ne[0] * s->ne[1] * s->ne[2] * s->ne[3];
        uint64_t nbytes = 0;
        CHECK(lk_dtype_row_bytes(t->type, n, &nbytes) && nbytes == t->nbytes);
        if (nbytes != t->nbytes) continue;
        total++;
        /* Same bytes. */
        uint8_t *mine = malloc(nbytes);
        CHECK_EQ_INT(lk_quantize_row(t->type, s->data, mine, n), LK_OK);
        const bool same = memcmp(mine, t->data, nbytes) == 0;
        CHECK_MSG(same, "%s %s (%s): bytes differ from llama.cpp's", label, t->name,
                  lk_dtype_name(t->type));
        if (same && t->type >= 0 && t->type < 64) exact[t->type]++;
        /* Close to the F32 weights once dequantized. */
        float *deq = malloc((size_t)n * sizeof(float));
        CHECK_EQ_INT(lk_dequantize_row(t->type, t->data, deq, n), LK_OK);
        const float *f = s->data;
        double se = 0, ss = 0;
        for (int64_t j = 0; j < n; j++) {
            se += ((double)deq[j] - f[j]) * ((double)deq[j] - f[j]);
            ss += (double)f[j] * f[j];
        }
        const double rel_rmse = ss > 0 ? sqrt(se / ss) : sqrt(se);
        CHECK_MSG(rel_rmse <= rmse_bound(t->type), "%s %s (%s): relative RMSE %.4g > %.4g", label,
                  t->name, lk_dtype_name(t->type), rel_rmse, rmse_bound(t->type));
        free(deq);
        free(mine);
    }
    printf("%-7s", label);
    for (int ty = 0; ty < 64; ty++)
        if (exact[ty]) printf("  %s: %d byte-exact", lk_dtype_name((lk_dtype)ty), exact[ty]);
    printf("  (of %d quantized tensors)\n", total);
    CHECK(total > 0);
    lk_gguf_close(q);
}

int main(void) {
    const char *src_path = lk_test_fixture("gguf/stories260K-ffn192.gguf");
    if (!src_path) lk_test_skip("fixture gguf/stories260K-ffn192.gguf not found");
    lk_error err;
    lk_gguf *src = NULL;
    CHECK_OK(lk_gguf_open(src_path, &src, &err), &err);
    if (src) {
        const char *labels[] = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K_M", "Q6_K"};
        for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) check_file(src, labels[i]);
        lk_gguf_close(src);
    }
    return lk_test_finish("test_quant_fixtures");
}
