/* Quantization mixes ("file types"): which type each tensor of a model gets.
 *
 * `llama-quantize model.gguf out.gguf Q4_K_M` does not quantize every tensor
 * to Q4_K: it keeps norms in F32, gives the output projection Q6_K, gives
 * some attn_v and ffn_down layers more bits, and falls back to a block-32
 * type when a row length is not a multiple of 256. lk_quant_mix_type is
 * that rule (llama.cpp's llama_tensor_get_type, no importance matrix, no
 * overrides) as a pure function; docs/quantization.md writes it out as a
 * table. */
#ifndef LK_TENSOR_QUANT_MIX_H
#define LK_TENSOR_QUANT_MIX_H

#include <stdbool.h>
#include <stdint.h>

#include "llmkit.h"

/* llama.cpp's llama_ftype numbers: the value of general.file_type. */
typedef enum {
    LK_FTYPE_ALL_F32 = 0,
    LK_FTYPE_F16 = 1,
    LK_FTYPE_Q4_0 = 2,
    LK_FTYPE_Q4_1 = 3,
    LK_FTYPE_Q8_0 = 7,
    LK_FTYPE_Q5_0 = 8,
    LK_FTYPE_Q5_1 = 9,
    LK_FTYPE_Q2_K = 10,
    LK_FTYPE_Q3_K_S = 11,
    LK_FTYPE_Q3_K_M = 12,
    LK_FTYPE_Q3_K_L = 13,
    LK_FTYPE_Q4_K_S = 14,
    LK_FTYPE_Q4_K_M = 15,
    LK_FTYPE_Q5_K_S = 16,
    LK_FTYPE_Q5_K_M = 17,
    LK_FTYPE_Q6_K = 18,
    LK_FTYPE_BF16 = 32,
    LK_FTYPE_INVALID = -1
} lk_ftype;

/* "q4_k_m", "Q8_0", "f16", "bf16", "f32" (case-insensitive); LK_FTYPE_INVALID if unknown. */
lk_ftype lk_ftype_from_name(const char *name);
/* "q4_k_m", ...; NULL if unknown. */
const char *lk_ftype_name(lk_ftype f);
/* The type most tensors get (Q4_K for Q4_K_M); LK_DTYPE_INVALID if unknown. */
lk_dtype lk_ftype_default_type(lk_ftype f);

/* What the rule needs to know about the whole model. */
typedef struct {
    int32_t n_layer;      /* block_count */
    int32_t n_attn_v;     /* tensors named *attn_v.weight / *attn_qkv.weight / *attn_kv_b.weight */
    int32_t n_gqa;        /* n_head / n_head_kv (Q2_K gives attn_v Q4_K when >= 4) */
    int32_t n_expert;     /* 0 for dense models */
    bool tied_embeddings; /* no output.weight: token_embd is treated as the output */
    bool falcon;          /* general.architecture == "falcon" */
    bool is_70b;          /* llama.cpp's 70B size class (80 layers): attn_v gets Q5_K */
} lk_quant_mix_model;

/* The type tensor `name` (GGUF name, e.g. "blk.3.attn_v.weight") of shape
 * ne[0..n_dims) and current type src gets under ftype. Tensors llama.cpp
 * does not quantize (norms, 1-D tensors, names not ending in "weight", ...)
 * keep src. The layer is the N of "blk.N."; llama.cpp counts attn_v and
 * ffn_down tensors in layer order, which is the same thing when every
 * layer has one of each. Returns LK_DTYPE_INVALID when llama.cpp would
 * refuse (a row length no fallback type divides). */
lk_dtype lk_quant_mix_type(lk_ftype ftype, const lk_quant_mix_model *m, const char *name,
                           uint32_t n_dims, const int64_t *ne, lk_dtype src);

#endif
