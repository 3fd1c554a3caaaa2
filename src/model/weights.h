/* Model weights: pointers into a model file's tensor table, checked once.
 *
 * Matrices stay where they are (mmap'd) in their stored dtype; the kernels
 * multiply F32/F16/BF16 (later quantized) rows directly. Only the small
 * vectors (norm weights, biases) are converted to F32 copies, all carved out
 * of one allocation, so the forward pass never branches on their dtype.
 *
 * Shape legend: D n_embd, H n_head, Hkv n_head_kv, d head_dim, F n_ff,
 * V n_vocab. Linear weights are [out][in]. */
#ifndef LK_MODEL_WEIGHTS_H
#define LK_MODEL_WEIGHTS_H

#include <stddef.h>

#include "llmkit.h"
#include "base/threadpool.h"
#include "tensor/kernels.h"
#include "tensor/matmul.h"

typedef struct {
    const float *attn_norm;     /* [D] */
    const float *attn_norm_b;   /* [D] LayerNorm bias (gpt2), else NULL */
    lk_matrix wq;               /* [H*d][D]  (phi3, gpt2: rows of the fused attn_qkv) */
    lk_matrix wk;               /* [Hkv*d][D] */
    lk_matrix wv;               /* [Hkv*d][D] */
    lk_matrix wo;               /* [D][H*d] */
    const float *bq, *bk, *bv;  /* [H*d], [Hkv*d], [Hkv*d]: qwen2, gpt2 biases, else NULL */
    const float *bo;            /* [D] gpt2, else NULL */
    const float *q_norm;        /* [d] qwen3 per-head RMSNorm, else NULL */
    const float *k_norm;        /* [d] */
    const float *post_attn_norm; /* [D] gemma2 norm of the attention output, else NULL */
    const float *ffn_norm;      /* [D] */
    const float *ffn_norm_b;    /* [D] LayerNorm bias (gpt2), else NULL */
    lk_matrix w_gate;           /* [F][D]  (phi3: first rows of the fused ffn_up);
                                   data NULL for an ungated MLP (gpt2) */
    lk_matrix w_up;             /* [F][D] */
    lk_matrix w_down;           /* [D][F] */
    const float *b_gate;        /* [F] llama mlp_bias, else NULL */
    const float *b_up, *b_down; /* [F], [D] gpt2 and llama mlp_bias, else NULL */
    const float *post_ffn_norm; /* [D] gemma2, else NULL */
} lk_layer_weights;

typedef struct {
    lk_hparams hp;
    lk_matrix tok_embd;         /* [V][D] */
    lk_matrix pos_embd;         /* [n_ctx_train][D] learned positions (gpt2); data NULL otherwise */
    const float *rope_freqs;    /* [n_rot/2] llama.cpp's per-pair frequency divisors (how a GGUF
                                   carries Llama 3.1 rope scaling), else NULL */
    const float *out_norm;      /* [D] */
    const float *out_norm_b;    /* [D] LayerNorm bias (gpt2), else NULL */
    lk_matrix output;           /* [V][D]; the same as tok_embd when tied */
    lk_layer_weights *layers;   /* [n_layer] */
    float *f32_store;           /* owns every const float * above */
    void *packed_store;         /* owns every lk_matrix.packed (lk_weights_pack) */
    uint64_t n_params;          /* elements of every tensor used */
    uint64_t n_bytes;           /* their bytes as stored in the file */
} lk_weights;

/* Finds, checks (names, shapes, byte sizes, dtypes the kernels handle) and
 * wires up the weights of a decoder-only model (llama, mistral, qwen2,
 * qwen3, gemma, gemma2, phi3, gpt2). Fused tensors (attn_qkv, phi3's
 * gate+up ffn_up) become views of their row ranges: no copies. The tensor
 * data must outlive w (the table itself need not). */
lk_status lk_weights_build(lk_weights *w, const lk_hparams *hp, const lk_tensor_info *tensors,
                           size_t n_tensors, const lk_kernels *kern, lk_error *err);
void lk_weights_free(lk_weights *w);

/* Gives every linear weight whose dtype has a packed product on this CPU
 * (Q4_0, Q5_0, Q8_0, Q4_K; quant_pack.h) a packed copy, made on the pool's
 * threads; the token embedding stays as stored (its rows are looked up).
 * Out of memory leaves the weights as they were and fails. */
typedef void (*lk_packed_fn)(void *ctx, const lk_matrix *m);
/* done(ctx, w, m), when not NULL, is called after each matrix is packed
 * (the loader lets its file pages go then, so they are not all resident
 * next to the copies at once). */
lk_status lk_weights_pack(lk_weights *w, const lk_kernels *kern, lk_threadpool *tp,
                          lk_packed_fn done, void *done_ctx, lk_error *err);

/* Calls fn(ctx, m) for each matrix the forward pass multiplies by (the
 * output once, also when it is the tied embedding). */
void lk_weights_each_matrix(const lk_weights *w, void (*fn)(void *ctx, const lk_matrix *m),
                            void *ctx);

/* Architectures lk_weights_build accepts, for messages. */
#define LK_SUPPORTED_ARCHS "llama, mistral, qwen2, qwen3, gemma, gemma2, phi3, gpt2"

#endif
