/* The transformer forward pass of decoder-only models (llama, mistral,
 * qwen2, qwen3, gemma, gemma2, phi3, gpt2): T tokens at once (batched prefill) or one (decode),
 * appended to a sequence's KV cache.
 *
 * Shape legend: T tokens in this call, D n_embd, H n_head, Hkv n_head_kv,
 * d head_dim, F n_ff, V n_vocab, C n_ctx. */
#ifndef LK_MODEL_FORWARD_H
#define LK_MODEL_FORWARD_H

#include <stdbool.h>

#include "base/threadpool.h"
#include "model/kv_cache.h"
#include "model/weights.h"
#include "tensor/kernels.h"
#include "tensor/rope.h"

/* Scratch activations for up to n_batch tokens, one allocation. */
typedef struct {
    int32_t n_batch;
    int32_t n_ctx;
    float *x;       /* [T][D] the residual stream */
    float *xb;      /* [T][D] normed input / block output */
    float *q;       /* [T][H*d] */
    float *k;       /* [T][Hkv*d] */
    float *v;       /* [T][Hkv*d] */
    float *att;     /* [T][H*d] attention output, heads concatenated */
    float *hb;      /* [T][F] gate, then act(gate) * up */
    float *hb2;     /* [T][F] up */
    float *scores;  /* [n_threads][C] attention weights of one query head per thread */
    float *cos_sin; /* [n_rot] */
    void *act;      /* activation conversion scratch for quantized weights */
    void *block;    /* owns all of the above */
    lk_kv_cache **row_cache; /* [T] the sequence (cache) each row belongs to */
    int32_t *row_pos;        /* [T] each row's position in its sequence */
} lk_run_state;

lk_status lk_run_state_init(lk_run_state *s, const lk_weights *w, const lk_kernels *kern,
                            int32_t n_batch, int32_t n_ctx, int n_threads, lk_error *err);
void lk_run_state_free(lk_run_state *s);

typedef struct {
    const lk_weights *w;
    const lk_kernels *kern;
    const lk_rope *rope;
    lk_threadpool *tp; /* NULL: caller's thread only */
} lk_forward_ctx;

/* Runs tokens[0..n) (n <= s->n_batch, all ids < V, cache->n_past + n <=
 * cache->n_ctx: the caller checks) at positions cache->n_past..., appends
 * their keys/values and advances n_past. Logits: with all_logits, logits is
 * [n][V]; otherwise [V] for the last token; NULL computes none. */
void lk_forward(const lk_forward_ctx *f, lk_kv_cache *cache, lk_run_state *s,
                const int32_t *tokens, int32_t n, float *logits, bool all_logits);

/* The general form: row t is token tokens[t] of the sequence whose cache is
 * s->row_cache[t], at position s->row_pos[t] (the caller fills both). Rows
 * of one sequence must be consecutive positions in order; rows of
 * different sequences share the matrix products (one weight read serves
 * them all) and attend only to their own cache. Each cache's n_past becomes
 * its last row's position + 1. */
void lk_forward_rows(const lk_forward_ctx *f, lk_run_state *s, const int32_t *tokens, int32_t n,
                     float *logits, bool all_logits);

#endif
