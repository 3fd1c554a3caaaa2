/* The per-tensor type rule of the quantization mixes, against llama.cpp.
 *
 * tests/golden/quant/mix_types.txt was written by llama.cpp's own
 * llama_model_quantize on two random-weight llama models (make_mix_golden.py
 * there); it lists every tensor whose type differs from the mix's default.
 * Here the same two models' tensor lists are rebuilt and every tensor's
 * type is checked, for every mix. */
#include <stdlib.h>
#include <string.h>

#include "base/mmap.h"
#include "tensor/dtype.h"
#include "tensor/quant_mix.h"
#include "test.h"

typedef struct {
    char name[64];
    uint32_t n_dims;
    int64_t ne[2];
} tensor_shape;

/* The models of make_mix_golden.py, tensor for tensor. */
static int build_model(char which, tensor_shape *t, lk_quant_mix_model *m) {
    const int n_layer = which == 'a' ? 12 : 8, n_embd = 256, n_head = 4;
    const int n_head_kv = which == 'a' ? 1 : 4, n_ff = which == 'a' ? 512 : 320, vocab = 256;
    const bool tied = which == 'b';
    const int hd = n_embd / n_head;
    int n = 0;
#define ADD(nm, d, a, b)                                                                           \
    do {                                                                                           \
        snprintf(t[n].name, sizeof t[n].name, "%s", nm);                                           \
        t[n].n_dims = d;                                                                           \
        t[n].ne[0] = a;                                                                            \
        t[n].ne[1] = b;                                                                            \
        n++;                                                                                       \
    } while (0)
    ADD("token_embd.weight", 2, n_embd, vocab);
    ADD("output_norm.weight", 1, n_embd, 1);
    if (!tied) ADD("output.weight", 2, n_embd, vocab);
    for (int i = 0; i < n_layer; i++) {
        char nm[64];
#define LAYER(suffix, d, a, b)                                                                     \
    do {                                                                                           \
        snprintf(nm, sizeof nm, "blk.%d.%s", i, suffix);                                           \
        ADD(nm, d, a, b);                                                                          \
    } while (0)
        LAYER("attn_norm.weight", 1, n_embd, 1);
        LAYER("attn_q.weight", 2, n_embd, n_embd);
        LAYER("attn_k.weight", 2, n_embd, hd * n_head_kv);
        LAYER("attn_v.weight", 2, n_embd, hd * n_head_kv);
        LAYER("attn_output.weight", 2, n_embd, n_embd);
        LAYER("ffn_norm.weight", 1, n_embd, 1);
        LAYER("ffn_gate.weight", 2, n_embd, n_ff);
        LAYER("ffn_up.weight", 2, n_embd, n_ff);
        LAYER("ffn_down.weight", 2, n_ff, n_embd);
#undef LAYER
    }
#undef ADD
    memset(m, 0, sizeof *m);
    m->n_layer = n_layer;
    m->n_attn_v = n_layer;
    m->n_gqa = n_head / n_head_kv;
    m->tied_embeddings = tied;
    return n;
}

/* The type llama.cpp gave (model, mix, tensor), from the golden lines. */
static lk_dtype expected_type(const char *golden, char model, const char *mix, const char *tensor,
                              lk_dtype def) {
    char needle[160];
    snprintf(needle, sizeof needle, "\n%c %s %s ", model, mix, tensor);
    const char *p = strstr(golden, needle);
    if (!p) return def;
    char tname[16] = {0};
    if (sscanf(p + strlen(needle), "%15s", tname) != 1) return LK_DTYPE_INVALID;
    return lk_dtype_from_name(tname);
}

static void test_against_llama_cpp(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/golden/quant/mix_types.txt", lk_test_source_dir());
    char *golden = NULL;
    size_t size;
    lk_error err;
    CHECK_OK(lk_read_file(path, 1 << 20, &golden, &size, &err), &err);
    if (!golden) return;
    static const char *const mixes[] = {"q4_0",   "q4_1",   "q8_0",   "q5_0",   "q5_1",
                                        "q2_k",   "q3_k_s", "q3_k_m", "q3_k_l", "q4_k_s",
                                        "q4_k_m", "q5_k_s", "q5_k_m", "q6_k"};
    static tensor_shape tensors[256];
    int checked = 0;
    for (const char *model = "ab"; *model; model++) {
        lk_quant_mix_model m;
        const int n = build_model(*model, tensors, &m);
        for (size_t k = 0; k < sizeof mixes / sizeof mixes[0]; k++) {
            const lk_ftype f = lk_ftype_from_name(mixes[k]);
            CHECK(f != LK_FTYPE_INVALID);
            const lk_dtype def = lk_ftype_default_type(f);
            for (int i = 0; i < n; i++) {
                const tensor_shape *t = &tensors[i];
                const bool norm = strstr(t->name, "_norm.weight") != NULL;
                const lk_dtype want =
                    norm ? LK_DTYPE_F32 : expected_type(golden, *model, mixes[k], t->name, def);
                const lk_dtype got =
                    lk_quant_mix_type(f, &m, t->name, t->n_dims, t->ne, LK_DTYPE_F32);
                CHECK_MSG(got == want, "model %c %s %s: got %s, llama.cpp %s", *model, mixes[k],
                          t->name, lk_dtype_name(got), lk_dtype_name(want));
                checked++;
            }
        }
    }
    CHECK(checked > 2000);
    free(golden);
}

static void test_names_and_edges(void) {
    CHECK(lk_ftype_from_name("Q4_K_M") == LK_FTYPE_Q4_K_M);
    CHECK(lk_ftype_from_name("q8_0") == LK_FTYPE_Q8_0);
    CHECK(lk_ftype_from_name("q4_k") == LK_FTYPE_INVALID);
    CHECK(lk_ftype_from_name("") == LK_FTYPE_INVALID);
    CHECK_EQ_STR(lk_ftype_name(LK_FTYPE_Q5_K_S), "q5_k_s");
    CHECK(lk_ftype_default_type(LK_FTYPE_Q3_K_M) == LK_DTYPE_Q3_K);

    lk_quant_mix_model m = {.n_layer = 5, .n_attn_v = 5, .n_gqa = 2};
    const int64_t ne_odd[2] = {100, 64}, ne_64[2] = {64, 64}, ne_1d[1] = {256};
    /* A row length no fallback divides: llama.cpp refuses a legacy target... */
    CHECK(lk_quant_mix_type(LK_FTYPE_Q4_0, &m, "blk.0.attn_q.weight", 2, ne_odd, LK_DTYPE_F32) ==
          LK_DTYPE_INVALID);
    /* ...and falls back to F16 for a K target. */
    CHECK(lk_quant_mix_type(LK_FTYPE_Q4_K_M, &m, "blk.0.attn_q.weight", 2, ne_odd, LK_DTYPE_F32) ==
          LK_DTYPE_F16);
    /* stories260K (dim 64, 5 layers): the types in the Q4_K_M fixture. */
    CHECK(lk_quant_mix_type(LK_FTYPE_Q4_K_M, &m, "blk.2.attn_v.weight", 2, ne_64, LK_DTYPE_F32) ==
          LK_DTYPE_Q8_0);
    CHECK(lk_quant_mix_type(LK_FTYPE_Q4_K_M, &m, "blk.1.attn_v.weight", 2, ne_64, LK_DTYPE_F32) ==
          LK_DTYPE_Q5_0);
    /* 1-D tensors keep their type; F16 mix converts everything 2-D. */
    CHECK(lk_quant_mix_type(LK_FTYPE_Q4_0, &m, "blk.0.attn_q.weight", 1, ne_1d, LK_DTYPE_F16) ==
          LK_DTYPE_F16);
    CHECK(lk_quant_mix_type(LK_FTYPE_F16, &m, "blk.0.attn_q.weight", 2, ne_64, LK_DTYPE_F32) ==
          LK_DTYPE_F16);
    CHECK(lk_quant_mix_type(LK_FTYPE_INVALID, &m, "x.weight", 2, ne_64, LK_DTYPE_F32) ==
          LK_DTYPE_INVALID);
}

int main(void) {
    test_names_and_edges();
    test_against_llama_cpp();
    return lk_test_finish("test_quant_mix");
}
