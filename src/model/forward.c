/* The decoder-only forward pass (llama family, phi3, gpt2). It reads like
 * the equations (HF's modeling_llama.py and friends), one block after
 * another; the arithmetic goes through the kernel table so the same code
 * runs scalar or SIMD, and the matrix products and attention heads are
 * spread over the thread pool.
 *
 * Per layer, for the T tokens of this call:
 *   xb  = RMSNorm(x) * attn_norm          (gpt2: LayerNorm; + learned positions at the input)
 *   q,k,v = xb Wq^T (+bq), xb Wk^T (+bk), xb Wv^T (+bv)
 *   [qwen3] per-head RMSNorm of q and k;  RoPE on q and k;  k,v -> cache
 *   att = softmax(q k^T * scale + causal mask) v    (GQA: H/Hkv q heads per kv head)
 *   x  += [gemma2: RMSNorm] (att Wo^T)
 *   xb  = RMSNorm(x) * ffn_norm
 *   x  += [gemma2: RMSNorm] (act(xb Wgate^T) * (xb Wup^T)) Wdown^T   (gpt2: act(xb Wup^T + b))
 * then logits = RMSNorm(x) * out_norm · Wout^T  [gemma2: soft-capped]. */
#include "model/forward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

/* The largest matrix-product scratch the weights ask for (lk_weights_each_matrix). */
typedef struct {
    const lk_kernels *kern;
    int32_t n_batch;
    int n_threads;
    size_t bytes;
} scratch_need;

static void need_scratch(void *ctx, const lk_matrix *m) {
    scratch_need *n = ctx;
    const size_t b = lk_matmul_scratch_bytes(n->kern, m->dtype, n->n_batch, m->cols, n->n_threads);
    if (b > n->bytes) n->bytes = b;
}

lk_status lk_run_state_init(lk_run_state *s, const lk_weights *w, const lk_kernels *kern,
                            int32_t n_batch, int32_t n_ctx, int n_threads, lk_error *err) {
    memset(s, 0, sizeof *s);
    const lk_hparams *hp = &w->hp;
    size_t B = (size_t)n_batch, D = (size_t)hp->n_embd,
           qd = (size_t)hp->n_head * (size_t)hp->head_dim,
           kvd = (size_t)hp->n_head_kv * (size_t)hp->head_dim, F = (size_t)hp->n_ff;
    /* Matrix-product scratch: the largest any weight asks for. */
    if (n_threads < 1) n_threads = 1;
    scratch_need need = {kern, n_batch, n_threads, 0};
    lk_weights_each_matrix(w, need_scratch, &need);
    const size_t act = need.bytes;
    size_t floats = B * (2 * D + 2 * qd + 2 * kvd + 2 * F) + (size_t)n_ctx * (size_t)n_threads +
                    (size_t)hp->head_dim;
    size_t act_floats = (act + sizeof(float) - 1) / sizeof(float);
    float *p = malloc((floats + act_floats + 16) * sizeof(float));
    if (!p)
        return lk_error_set(err, LK_ERR_NOMEM, "run state: cannot allocate %.1f MiB of activations "
                            "for a batch of %d tokens (lower the batch size)",
                            (double)(floats + act_floats) * 4.0 / 1048576.0, n_batch);
    s->block = p;
    s->n_batch = n_batch;
    s->n_ctx = n_ctx;
    s->x = p, p += B * D;
    s->xb = p, p += B * D;
    s->q = p, p += B * qd;
    s->att = p, p += B * qd;
    s->k = p, p += B * kvd;
    s->v = p, p += B * kvd;
    s->hb = p, p += B * F;
    s->hb2 = p, p += B * F;
    s->scores = p, p += (size_t)n_ctx * (size_t)n_threads;
    s->cos_sin = p, p += (size_t)hp->head_dim;
    s->act = act ? (void *)p : NULL;
    s->row_cache = calloc(B, sizeof *s->row_cache);
    s->row_pos = calloc(B, sizeof *s->row_pos);
    if (!s->row_cache || !s->row_pos) {
        lk_run_state_free(s);
        return lk_error_set(err, LK_ERR_NOMEM, "run state: out of memory");
    }
    return LK_OK;
}

void lk_run_state_free(lk_run_state *s) {
    if (!s) return;
    free(s->block);
    free(s->row_cache);
    free(s->row_pos);
    memset(s, 0, sizeof *s);
}

static void add_bias(const lk_kernels *k, float *y, const float *b, int32_t n_rows, int64_t dim) {
    if (!b) return;
    for (int32_t t = 0; t < n_rows; t++) k->add(dim, b, y + (int64_t)t * dim);
}

/* Attention for query tokens of this call, one (token, head) pair per item,
 * spread over the threads: item i is head i % H of the token at place
 * i / H of the zigzag order 0, n-1, 1, n-2, ... Token t attends to t + 1
 * positions, so in token order the thread taking the last half of a prompt
 * did three times the work of the one taking the first (measured: 2
 * threads spent ~10 % of pp512 waiting); zigzagged, every contiguous range
 * of items holds early and late tokens alike. */
typedef struct {
    const lk_forward_ctx *f;
    lk_run_state *s;
    int32_t layer, window;
    int32_t n; /* query tokens */
} attention_job;

static void attend_items(void *ctx, int64_t begin, int64_t end, int thread_index) {
    const attention_job *j = ctx;
    const lk_hparams *hp = &j->f->w->hp;
    const lk_kernels *K = j->f->kern;
    const int32_t d = hp->head_dim, H = hp->n_head, group = hp->n_head / hp->n_head_kv;
    const int64_t qd = (int64_t)H * d;
    const float scale = 1.0f / sqrtf(hp->query_pre_attn_scalar > 0 ? hp->query_pre_attn_scalar
                                                                   : (float)d);
    float *sc = j->s->scores + (size_t)thread_index * (size_t)j->s->n_ctx;
    for (int64_t item = begin; item < end; item++) {
        const int32_t place = (int32_t)(item / H), h = (int32_t)(item % H);
        const int32_t t = place % 2 == 0 ? place / 2 : j->n - 1 - place / 2;
        const lk_kv_cache *cache = j->s->row_cache[t];
        const lk_dtype_kernels *kv = lk_kernels_dtype(K, cache->dtype);
        const size_t elem = cache->dtype == LK_DTYPE_F32 ? 4 : 2;
        int32_t pos = j->s->row_pos[t];
        /* Causal, and within the sliding window when there is one. */
        int32_t first = j->window > 0 && pos - j->window + 1 > 0 ? pos - j->window + 1 : 0;
        int32_t n = pos - first + 1;
        const float *qh = j->s->q + t * qd + (int64_t)h * d;
        const size_t kv_off = (size_t)(h / group) * (size_t)d * elem;
        for (int32_t i = 0; i < n; i++) {
            const char *krow = (const char *)lk_kv_k(cache, j->layer, first + i) + kv_off;
            sc[i] = kv->vec_dot(d, krow, qh) * scale;
        }
        if (hp->attn_softcap > 0) lk_softcap(n, sc, hp->attn_softcap);
        lk_softmax(n, sc);
        float *out = j->s->att + t * qd + (int64_t)h * d;
        memset(out, 0, (size_t)d * sizeof(float));
        for (int32_t i = 0; i < n; i++) {
            const char *vrow = (const char *)lk_kv_v(cache, j->layer, first + i) + kv_off;
            if (cache->dtype == LK_DTYPE_F32) K->axpy_f32(d, sc[i], (const float *)vrow, out);
            else K->axpy_f16(d, sc[i], (const uint16_t *)vrow, out);
        }
    }
}

/* RMSNorm or LayerNorm (gpt2), by the model's kind. */
static void norm(const lk_forward_ctx *f, const float *x, const float *w, const float *b,
                 float *out) {
    const lk_hparams *hp = &f->w->hp;
    if (hp->norm == LK_NORM_LAYER) lk_layernorm(hp->n_embd, x, w, b, hp->norm_eps, out);
    else f->kern->rmsnorm(hp->n_embd, x, w, hp->norm_eps, out);
}

static void activate(const lk_hparams *hp, int64_t n, float *x) {
    switch (hp->act) {
    case LK_ACT_GELU: lk_gelu(n, x); break;
    case LK_ACT_GELU_TANH: lk_gelu_tanh(n, x); break;
    default: lk_silu(n, x); break;
    }
}

/* hb = act(hb) [* hb2]: transcendental per element, so worth the threads. */
typedef struct {
    const lk_forward_ctx *f;
    float *hb;
    const float *hb2; /* NULL: ungated */
} act_job;

static void act_range(void *ctx, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    const act_job *j = ctx;
    activate(&j->f->w->hp, end - begin, j->hb + begin);
    if (j->hb2) j->f->kern->mul(end - begin, j->hb2 + begin, j->hb + begin);
}

void lk_forward(const lk_forward_ctx *f, lk_kv_cache *cache, lk_run_state *s,
                const int32_t *tokens, int32_t n, float *logits, bool all_logits) {
    for (int32_t t = 0; t < n; t++) {
        s->row_cache[t] = cache;
        s->row_pos[t] = cache->n_past + t;
    }
    lk_forward_rows(f, s, tokens, n, logits, all_logits);
}

void lk_forward_rows(const lk_forward_ctx *f, lk_run_state *s, const int32_t *tokens, int32_t n,
                     float *logits, bool all_logits) {
    const lk_weights *w = f->w;
    const lk_hparams *hp = &w->hp;
    const lk_kernels *K = f->kern;
    const int64_t D = hp->n_embd, d = hp->head_dim, qd = (int64_t)hp->n_head * d,
                  kvd = (int64_t)hp->n_head_kv * d, F = hp->n_ff, V = hp->n_vocab;
    const int32_t *pos = s->row_pos;
    const bool gemma2 = strcmp(hp->arch, "gemma2") == 0;

    /* Token embeddings (gemma scales them by sqrt(D), rounded as HF does to
     * the activation dtype, here F32). */
    const lk_dtype_kernels *ek = lk_kernels_dtype(K, w->tok_embd.dtype);
    for (int32_t t = 0; t < n; t++) {
        ek->to_f32(D, (const char *)w->tok_embd.data + (size_t)tokens[t] * w->tok_embd.row_bytes,
                   s->x + t * D);
        if (hp->embd_scale) lk_scale(D, s->x + t * D, sqrtf((float)D));
        if (w->pos_embd.data) { /* learned positions (gpt2); lk_eval checked the range */
            const lk_dtype_kernels *pk = lk_kernels_dtype(K, w->pos_embd.dtype);
            const char *row = (const char *)w->pos_embd.data + (size_t)pos[t] * w->pos_embd.row_bytes;
            pk->to_f32(D, row, s->xb);
            K->add(D, s->xb, s->x + t * D);
        }
    }

    for (int32_t il = 0; il < hp->n_layer; il++) {
        const lk_layer_weights *l = &w->layers[il];

        /* ---- attention */
        for (int32_t t = 0; t < n; t++)
            norm(f, s->x + t * D, l->attn_norm, l->attn_norm_b, s->xb + t * D);
        lk_matmul(f->tp, K, &l->wq, s->xb, n, s->q, s->act);
        lk_matmul(f->tp, K, &l->wk, s->xb, n, s->k, s->act);
        lk_matmul(f->tp, K, &l->wv, s->xb, n, s->v, s->act);
        add_bias(K, s->q, l->bq, n, qd);
        add_bias(K, s->k, l->bk, n, kvd);
        add_bias(K, s->v, l->bv, n, kvd);
        for (int32_t t = 0; t < n; t++) {
            float *qt = s->q + t * qd, *kt = s->k + t * kvd;
            if (l->q_norm) {
                for (int32_t h = 0; h < hp->n_head; h++)
                    K->rmsnorm(d, qt + h * d, l->q_norm, hp->norm_eps, qt + h * d);
                for (int32_t h = 0; h < hp->n_head_kv; h++)
                    K->rmsnorm(d, kt + h * d, l->k_norm, hp->norm_eps, kt + h * d);
            }
            lk_rope_apply(f->rope, qt, hp->n_head, (int32_t)d, pos[t], s->cos_sin);
            lk_rope_apply(f->rope, kt, hp->n_head_kv, (int32_t)d, pos[t], s->cos_sin);
            lk_kv_cache *cache = s->row_cache[t];
            const lk_dtype_kernels *ck = lk_kernels_dtype(K, cache->dtype);
            ck->from_f32(kvd, kt, lk_kv_k(cache, il, pos[t]));
            ck->from_f32(kvd, s->v + t * kvd, lk_kv_v(cache, il, pos[t]));
        }
        /* Sliding window: gemma2 on even layers, others (mistral) on all. */
        int32_t window = hp->sliding_window;
        if (gemma2 && il % 2 == 1) window = 0;
        attention_job aj = {f, s, il, window, n};
        /* ~16k multiply-adds per chunk at least (an item reads its whole
         * context); short contexts of small models stay on one thread. */
        int64_t item_work = (int64_t)(pos[n - 1] + 1) * d * 2;
        lk_parallel_for(f->tp, (int64_t)n * hp->n_head, 1 + 16384 / item_work, attend_items, &aj);
        lk_matmul(f->tp, K, &l->wo, s->att, n, s->xb, s->act);
        add_bias(K, s->xb, l->bo, n, D);
        for (int32_t t = 0; t < n; t++) {
            if (l->post_attn_norm)
                K->rmsnorm(D, s->xb + t * D, l->post_attn_norm, hp->norm_eps, s->xb + t * D);
            K->add(D, s->xb + t * D, s->x + t * D);
        }

        /* ---- feed-forward */
        for (int32_t t = 0; t < n; t++)
            norm(f, s->x + t * D, l->ffn_norm, l->ffn_norm_b, s->xb + t * D);
        if (l->w_gate.data) { /* gated: act(x Wgate^T) * (x Wup^T) */
            lk_matmul(f->tp, K, &l->w_gate, s->xb, n, s->hb, s->act);
            lk_matmul(f->tp, K, &l->w_up, s->xb, n, s->hb2, s->act);
            add_bias(K, s->hb, l->b_gate, n, F);
            add_bias(K, s->hb2, l->b_up, n, F);
            act_job aj = {f, s->hb, s->hb2};
            lk_parallel_for(f->tp, (int64_t)n * F, 4096, act_range, &aj);
        } else { /* plain: act(x Wup^T + b) */
            lk_matmul(f->tp, K, &l->w_up, s->xb, n, s->hb, s->act);
            add_bias(K, s->hb, l->b_up, n, F);
            act_job aj = {f, s->hb, NULL};
            lk_parallel_for(f->tp, (int64_t)n * F, 4096, act_range, &aj);
        }
        lk_matmul(f->tp, K, &l->w_down, s->hb, n, s->xb, s->act);
        add_bias(K, s->xb, l->b_down, n, D);
        for (int32_t t = 0; t < n; t++) {
            if (l->post_ffn_norm)
                K->rmsnorm(D, s->xb + t * D, l->post_ffn_norm, hp->norm_eps, s->xb + t * D);
            K->add(D, s->xb + t * D, s->x + t * D);
        }
    }
    for (int32_t t = 0; t < n; t++)
        if (s->row_cache[t]->n_past < pos[t] + 1) s->row_cache[t]->n_past = pos[t] + 1;

    if (!logits) return;
    int32_t first = all_logits ? 0 : n - 1, rows = all_logits ? n : 1;
    for (int32_t t = 0; t < rows; t++)
        norm(f, s->x + (first + t) * D, w->out_norm, w->out_norm_b, s->xb + t * D);
    lk_matmul(f->tp, K, &w->output, s->xb, rows, logits, s->act);
    if (hp->final_softcap > 0) lk_softcap((int64_t)rows * V, logits, hp->final_softcap);
}
