/* Rotary position embeddings (RoPE).
 *
 * Two layouts rotate the same angles over different pairs of a head vector:
 *   LK_ROPE_INTERLEAVED: pairs (x0,x1), (x2,x3), ...  (Meta's original code,
 *                        and llama weights that llama.cpp's converter permuted)
 *   LK_ROPE_HALF:        pairs (x_i, x_{i+n_rot/2})  (HF rotate_half, GPT-NeoX)
 * Pair i turns by angle pos * inv_freq[i], inv_freq[i] = theta^(-2i/n_rot),
 * adjusted by the scaling rule (linear: / factor; llama3: by wavelength band,
 * as in Meta's apply_scaling). Only the first n_rot dims of each head turn
 * (partial rotary); the rest pass through. */
#ifndef LK_TENSOR_ROPE_H
#define LK_TENSOR_ROPE_H

#include <stdint.h>

#include "llmkit.h"

#define LK_ROPE_MAX_PAIRS 512

typedef struct {
    lk_rope_layout layout;
    int32_t n_rot;                       /* even, <= head_dim */
    float inv_freq[LK_ROPE_MAX_PAIRS];   /* [n_rot / 2] */
} lk_rope;

/* Fills r from the hyper-parameters; LK_ERR_UNSUPPORTED for an odd or too
 * large n_rot. */
lk_status lk_rope_init(lk_rope *r, const lk_hparams *hp, int32_t head_dim, lk_error *err);

/* Rotates n_heads head vectors laid out back to back (x[n_heads][head_dim])
 * to position pos. cos_sin is scratch of n_rot floats. */
void lk_rope_apply(const lk_rope *r, float *x, int32_t n_heads, int32_t head_dim, int64_t pos,
                   float *cos_sin);

#endif
