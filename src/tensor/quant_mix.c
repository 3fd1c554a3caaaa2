/* The per-tensor type rule of llama.cpp's quantization mixes.
 *
 * Mirrors llama_tensor_get_type (src/llama-quant.cpp) for the file types
 * llmkit writes, without an importance matrix and without user overrides.
 * The IQ types' branches are left out (llmkit does not write them). The
 * expected output for every mix on two model shapes was recorded from
 * llama.cpp itself (tests/golden/quant/mix_types.txt). */
#include "tensor/quant_mix.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "tensor/dtype.h"

static const struct {
    lk_ftype f;
    const char *name;
    lk_dtype type;
} k_ftypes[] = {
    {LK_FTYPE_ALL_F32, "f32", LK_DTYPE_F32},    {LK_FTYPE_F16, "f16", LK_DTYPE_F16},
    {LK_FTYPE_BF16, "bf16", LK_DTYPE_BF16},     {LK_FTYPE_Q4_0, "q4_0", LK_DTYPE_Q4_0},
    {LK_FTYPE_Q4_1, "q4_1", LK_DTYPE_Q4_1},     {LK_FTYPE_Q5_0, "q5_0", LK_DTYPE_Q5_0},
    {LK_FTYPE_Q5_1, "q5_1", LK_DTYPE_Q5_1},     {LK_FTYPE_Q8_0, "q8_0", LK_DTYPE_Q8_0},
    {LK_FTYPE_Q2_K, "q2_k", LK_DTYPE_Q2_K},     {LK_FTYPE_Q3_K_S, "q3_k_s", LK_DTYPE_Q3_K},
    {LK_FTYPE_Q3_K_M, "q3_k_m", LK_DTYPE_Q3_K}, {LK_FTYPE_Q3_K_L, "q3_k_l", LK_DTYPE_Q3_K},
    {LK_FTYPE_Q4_K_S, "q4_k_s", LK_DTYPE_Q4_K}, {LK_FTYPE_Q4_K_M, "q4_k_m", LK_DTYPE_Q4_K},
    {LK_FTYPE_Q5_K_S, "q5_k_s", LK_DTYPE_Q5_K}, {LK_FTYPE_Q5_K_M, "q5_k_m", LK_DTYPE_Q5_K},
    {LK_FTYPE_Q6_K, "q6_k", LK_DTYPE_Q6_K},
};
#define N_FTYPES (sizeof k_ftypes / sizeof k_ftypes[0])

lk_ftype lk_ftype_from_name(const char *name) {
    char low[16];
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= sizeof low) return LK_FTYPE_INVALID;
    for (size_t i = 0; i <= n; i++) low[i] = (char)tolower((unsigned char)name[i]);
    for (size_t i = 0; i < N_FTYPES; i++)
        if (strcmp(k_ftypes[i].name, low) == 0) return k_ftypes[i].f;
    return LK_FTYPE_INVALID;
}

const char *lk_ftype_name(lk_ftype f) {
    for (size_t i = 0; i < N_FTYPES; i++)
        if (k_ftypes[i].f == f) return k_ftypes[i].name;
    return NULL;
}

lk_dtype lk_ftype_default_type(lk_ftype f) {
    for (size_t i = 0; i < N_FTYPES; i++)
        if (k_ftypes[i].f == f) return k_ftypes[i].type;
    return LK_DTYPE_INVALID;
}

/* ---------------------------------------------------------------- rule */

typedef enum {
    CAT_TOKEN_EMBD,
    CAT_ATTN_Q,
    CAT_ATTN_V, /* attn_v, attn_qkv, attn_kv_b: the most sensitive */
    CAT_ATTN_K,
    CAT_ATTN_OUTPUT,
    CAT_FFN_UP,
    CAT_FFN_GATE,
    CAT_FFN_DOWN,
    CAT_OUTPUT,
    CAT_OTHER
} category;

static bool contains(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

/* Substring tests in llama.cpp's order: "attn_qkv.weight" before
 * "attn_v.weight", "ffn_up" matching "ffn_up_exps" too, and so on. */
static category category_of(const char *name) {
    if (strcmp(name, "output.weight") == 0) return CAT_OUTPUT;
    if (strcmp(name, "token_embd.weight") == 0 || strcmp(name, "per_layer_token_embd.weight") == 0)
        return CAT_TOKEN_EMBD;
    if (contains(name, "attn_qkv.weight") || contains(name, "attn_kv_b.weight") ||
        contains(name, "attn_v.weight"))
        return CAT_ATTN_V;
    if (contains(name, "attn_k.weight")) return CAT_ATTN_K;
    if (contains(name, "attn_q.weight")) return CAT_ATTN_Q;
    if (contains(name, "attn_output.weight")) return CAT_ATTN_OUTPUT;
    if (contains(name, "ffn_up")) return CAT_FFN_UP;
    if (contains(name, "ffn_gate")) return CAT_FFN_GATE;
    if (contains(name, "ffn_down")) return CAT_FFN_DOWN;
    return CAT_OTHER;
}

/* llama.cpp's tensor_allows_quantization for the architectures llmkit
 * knows (the RWKV/Mamba/multimodal exclusions are kept for safety). */
static bool allows_quantization(const char *name, uint32_t n_dims) {
    if (n_dims < 2) return false;
    size_t n = strlen(name);
    if (n < 6 || strcmp(name + n - 6, "weight") != 0) return false;
    static const char *const never[] = {
        "_norm.weight",
        "ffn_gate_inp.weight",
        "altup",
        "laurel",
        "per_layer_model_proj",
        "ssm_conv1d",
        "shortconv.conv.weight",
        "time_mix_",
        "attn_rel_b.weight",
        ".position_embd",
        ".rel_pos",
        ".patch_embd",
        ".patch_merger",
        "ffn_gate_tid2eid.weight",
    };
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (contains(name, never[i])) return false;
    if (strcmp(name, "position_embd.weight") == 0 || strcmp(name, "token_types.weight") == 0)
        return false;
    return true;
}

/* Layers that get more bits in the _M mixes: the first and last eighth,
 * and every third layer in between. */
static bool use_more_bits(int i_layer, int n_layer) {
    return i_layer < n_layer / 8 || i_layer >= 7 * n_layer / 8 || (i_layer - n_layer / 8) % 3 == 2;
}

static int layer_of(const char *name) {
    int layer = -1;
    if (sscanf(name, "blk.%d.", &layer) != 1) return -1;
    return layer;
}

static bool is_quantized(lk_dtype t) {
    const lk_dtype_traits *tr = lk_dtype_traits_of(t);
    return tr && tr->block_size > 1;
}

static int block_size(lk_dtype t) {
    const lk_dtype_traits *tr = lk_dtype_traits_of(t);
    return tr ? tr->block_size : 1;
}

static lk_dtype mix_rule(lk_ftype f, const lk_quant_mix_model *m, category cat, int layer,
                         int64_t ncols, lk_dtype t) {
    if (cat == CAT_OUTPUT || (m->tied_embeddings && cat == CAT_TOKEN_EMBD)) {
        if (m->falcon || ncols % block_size(t) != 0) return LK_DTYPE_Q8_0;
        return t != LK_DTYPE_Q8_0 ? LK_DTYPE_Q6_K : t;
    }
    if (cat == CAT_TOKEN_EMBD) return t; /* only the IQ mixes change it */
    if (cat == CAT_ATTN_V) {
        if (f == LK_FTYPE_Q2_K)
            t = m->n_gqa >= 4 ? LK_DTYPE_Q4_K : LK_DTYPE_Q3_K;
        else if (f == LK_FTYPE_Q3_K_M)
            t = layer < 2 ? LK_DTYPE_Q5_K : LK_DTYPE_Q4_K;
        else if (f == LK_FTYPE_Q3_K_L)
            t = LK_DTYPE_Q5_K;
        else if ((f == LK_FTYPE_Q4_K_M || f == LK_FTYPE_Q5_K_M) &&
                 use_more_bits(layer, m->n_attn_v))
            t = LK_DTYPE_Q6_K;
        else if (f == LK_FTYPE_Q4_K_S && layer < 4)
            t = LK_DTYPE_Q5_K;
        /* 70B: 8 heads share each attn_v, so it is 8x smaller than attn_q
         * and more bits cost little. */
        if (m->is_70b && (t == LK_DTYPE_Q3_K || t == LK_DTYPE_Q4_K)) t = LK_DTYPE_Q5_K;
        if (m->n_expert == 8) t = LK_DTYPE_Q8_0;
        return t;
    }
    if (cat == CAT_ATTN_K) return m->n_expert == 8 ? LK_DTYPE_Q8_0 : t;
    if (cat == CAT_FFN_DOWN) {
        const int n = m->n_layer;
        if (f == LK_FTYPE_Q2_K)
            t = LK_DTYPE_Q3_K;
        else if (f == LK_FTYPE_Q3_K_M)
            t = layer < n / 16                          ? LK_DTYPE_Q5_K
                : !m->falcon || use_more_bits(layer, n) ? LK_DTYPE_Q4_K
                                                        : LK_DTYPE_Q3_K;
        else if (f == LK_FTYPE_Q3_K_L)
            t = m->falcon ? LK_DTYPE_Q4_K : LK_DTYPE_Q5_K;
        else if (f == LK_FTYPE_Q4_K_M) {
            if (m->falcon)
                t = layer < n / 16            ? LK_DTYPE_Q6_K
                    : use_more_bits(layer, n) ? LK_DTYPE_Q5_K
                                              : LK_DTYPE_Q4_K;
            else if (use_more_bits(layer, n))
                t = LK_DTYPE_Q6_K;
        } else if (f == LK_FTYPE_Q5_K_M && use_more_bits(layer, n))
            t = LK_DTYPE_Q6_K;
        else if (f == LK_FTYPE_Q4_K_S && !m->falcon && layer < n / 8)
            t = LK_DTYPE_Q5_K;
        return t;
    }
    if (cat == CAT_ATTN_OUTPUT) {
        if (!m->falcon) {
            if (m->n_expert == 8) {
                if (f == LK_FTYPE_Q2_K || f == LK_FTYPE_Q3_K_S || f == LK_FTYPE_Q3_K_M ||
                    f == LK_FTYPE_Q4_K_S || f == LK_FTYPE_Q4_K_M)
                    t = LK_DTYPE_Q5_K;
            } else if (f == LK_FTYPE_Q2_K) {
                t = LK_DTYPE_Q3_K;
            } else if (f == LK_FTYPE_Q3_K_M) {
                t = LK_DTYPE_Q4_K;
            } else if (f == LK_FTYPE_Q3_K_L) {
                t = LK_DTYPE_Q5_K;
            }
        } else if (f == LK_FTYPE_Q3_K_L) {
            t = LK_DTYPE_Q4_K;
        }
        return t;
    }
    return t; /* attn_q, ffn_gate, ffn_up, others: only IQ mixes change them */
}

/* A row length the chosen type cannot split: llama.cpp's fallbacks. */
static lk_dtype fallback(lk_dtype t, int64_t ncols) {
    if (ncols % block_size(t) == 0) return t;
    lk_dtype r;
    switch (t) {
    case LK_DTYPE_Q2_K:
    case LK_DTYPE_Q3_K: r = LK_DTYPE_Q4_0; break;
    case LK_DTYPE_Q4_K: r = LK_DTYPE_Q5_0; break;
    case LK_DTYPE_Q5_K: r = LK_DTYPE_Q5_1; break;
    case LK_DTYPE_Q6_K: r = LK_DTYPE_Q8_0; break;
    default: return LK_DTYPE_INVALID; /* llama.cpp: "no tensor type fallback" */
    }
    return ncols % block_size(r) == 0 ? r : LK_DTYPE_F16;
}

lk_dtype lk_quant_mix_type(lk_ftype ftype, const lk_quant_mix_model *m, const char *name,
                           uint32_t n_dims, const int64_t *ne, lk_dtype src) {
    const lk_dtype def = lk_ftype_default_type(ftype);
    if (def == LK_DTYPE_INVALID || !m || !name || !ne || n_dims == 0) return LK_DTYPE_INVALID;
    if (!allows_quantization(name, n_dims)) return src;
    if (!is_quantized(def)) return def;
    lk_dtype t = mix_rule(ftype, m, category_of(name), layer_of(name), ne[0], def);
    return fallback(t, ne[0]);
}
