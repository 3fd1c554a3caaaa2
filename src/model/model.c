/* The public model / context / eval API over weights.c, kv_cache.c and
 * forward.c. A model is read-only after loading; a context is one sequence. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "format/model_file_pages.h"
#include "model/forward.h"
#include "model/model_internal.h"

void lk_model_params_default(lk_model_params *p) {
    memset(p, 0, sizeof *p);
}

lk_status lk_model_from_tensors(const lk_hparams *hp, const lk_tensor_info *tensors, size_t n,
                                const lk_model_params *p, lk_model **out, lk_error *err) {
    return lk_model_build(hp, tensors, n, p, NULL, out, err);
}

/* The file pages of a packed matrix were read once, to pack it; products
 * read the copy, so they need not stay resident (the process would hold
 * those weights twice). A tied output's pages go too: the few embedding
 * rows a prompt looks up come back from the file. */
static void release_packed_source(void *ctx, const lk_matrix *m) {
    lk_model_file_release_pages(ctx, m->data, (size_t)m->row_bytes * (size_t)m->rows);
}

lk_status lk_model_build(const lk_hparams *hp, const lk_tensor_info *tensors, size_t n,
                         const lk_model_params *p, const lk_model_file *mf, lk_model **out,
                         lk_error *err) {
    *out = NULL;
    lk_model_params defaults;
    if (!p) {
        lk_model_params_default(&defaults);
        p = &defaults;
    }
    lk_model *m = calloc(1, sizeof *m);
    if (!m) return lk_error_set(err, LK_ERR_NOMEM, "model: out of memory");
    m->kern = lk_kernels_best();
    lk_status st = lk_weights_build(&m->w, hp, tensors, n, m->kern, err);
    if (st == LK_OK) {
        /* A rope_freqs tensor (llama.cpp's form of Llama 3.1 scaling) divides
         * the plain frequencies; it replaces, never adds to, a scaling rule. */
        lk_hparams rope_hp = *hp;
        if (m->w.rope_freqs) rope_hp.rope_scaling = LK_ROPE_SCALING_NONE;
        st = lk_rope_init(&m->rope, &rope_hp, hp->head_dim, err);
        for (int32_t i = 0; st == LK_OK && m->w.rope_freqs && i < m->rope.n_rot / 2; i++)
            m->rope.inv_freq[i] /= m->w.rope_freqs[i];
    }
    /* One thread: no pool at all, the caller's thread does the work. */
    if (st == LK_OK && p->n_threads != 1) st = lk_threadpool_new(p->n_threads, &m->tp, err);
    if (st == LK_OK && !p->no_repack)
        st = lk_weights_pack(&m->w, m->kern, m->tp, mf ? release_packed_source : NULL, (void *)mf,
                             err);
    if (st != LK_OK) {
        lk_model_free(m);
        return st;
    }
    *out = m;
    return LK_OK;
}

void lk_model_free(lk_model *m) {
    if (!m) return;
    lk_weights_free(&m->w);
    lk_threadpool_free(m->tp);
    if (m->owned_file) lk_model_file_close(m->owned_file);
    free(m);
}

const lk_hparams *lk_model_hparams(const lk_model *m) { return &m->w.hp; }
uint64_t lk_model_n_params(const lk_model *m) { return m->w.n_params; }
uint64_t lk_model_size(const lk_model *m) { return m->w.n_bytes; }
int32_t lk_model_n_threads(const lk_model *m) { return lk_threadpool_size(m->tp); }
const char *lk_model_kernels(const lk_model *m) { return m->kern->isa; }

/* ---------------------------------------------------------------- contexts */

struct lk_context {
    const lk_model *m;
    lk_kv_cache cache;
    lk_run_state rs;
};

/* The model's training context, halved until its KV cache fits in a quarter
 * of physical memory (weights and everything else need the rest); 4096 when
 * the model does not say. */
static int32_t default_n_ctx(const lk_hparams *hp, lk_dtype kv_type) {
    int32_t n = hp->n_ctx_train > 0 ? hp->n_ctx_train : 4096;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t budget = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page / 4 : (1ull << 32);
    while (n > 256) {
        uint64_t need = lk_kv_cache_bytes(kv_type, hp->n_layer, n, hp->n_head_kv * hp->head_dim);
        if (need != 0 && need <= budget) break;
        n /= 2;
    }
    return n;
}

void lk_context_params_default(lk_context_params *p) {
    memset(p, 0, sizeof *p);
    p->kv_type = LK_DTYPE_F16;
}

lk_status lk_context_new(const lk_model *m, const lk_context_params *p, lk_context **out,
                         lk_error *err) {
    *out = NULL;
    lk_context_params defaults;
    if (!p) {
        lk_context_params_default(&defaults);
        p = &defaults;
    }
    const lk_hparams *hp = &m->w.hp;
    int32_t n_ctx = p->n_ctx;
    if (n_ctx <= 0) n_ctx = default_n_ctx(hp, p->kv_type);
    if (n_ctx > (1 << 24))
        return lk_error_set(err, LK_ERR_RANGE, "context of %d positions is too large", n_ctx);
    if (m->w.pos_embd.data && n_ctx > m->w.pos_embd.rows) {
        if (p->n_ctx > 0)
            return lk_error_set(err, LK_ERR_RANGE,
                                "context of %d positions, but the model learned only %lld "
                                "(lower --ctx-size)",
                                n_ctx, (long long)m->w.pos_embd.rows);
        n_ctx = (int32_t)m->w.pos_embd.rows;
    }
    int32_t n_batch = p->n_batch > 0 ? p->n_batch : 256;
    if (n_batch > n_ctx) n_batch = n_ctx;
    lk_context *c = calloc(1, sizeof *c);
    if (!c) return lk_error_set(err, LK_ERR_NOMEM, "context: out of memory");
    c->m = m;
    lk_status st = lk_kv_cache_init(&c->cache, p->kv_type,
                                    hp->n_layer, n_ctx, hp->n_head_kv * hp->head_dim, err);
    if (st == LK_OK)
        st = lk_run_state_init(&c->rs, &m->w, m->kern, n_batch, n_ctx, lk_threadpool_size(m->tp), err);
    if (st != LK_OK) {
        lk_context_free(c);
        return st;
    }
    *out = c;
    return LK_OK;
}

void lk_context_free(lk_context *c) {
    if (!c) return;
    lk_kv_cache_free(&c->cache);
    lk_run_state_free(&c->rs);
    free(c);
}

int32_t lk_context_n_ctx(const lk_context *c) { return c->cache.n_ctx; }
int32_t lk_context_n_past(const lk_context *c) { return c->cache.n_past; }
void lk_context_reset(lk_context *c) { c->cache.n_past = 0; }

lk_status lk_context_truncate(lk_context *c, int32_t n_keep, lk_error *err) {
    if (n_keep < 0 || n_keep > c->cache.n_past)
        return lk_error_set(err, LK_ERR_ARG, "cannot keep %d tokens of %d", n_keep, c->cache.n_past);
    c->cache.n_past = n_keep;
    return LK_OK;
}

lk_status lk_context_copy(lk_context *dst, const lk_context *src, int32_t n, lk_error *err) {
    if (dst->m != src->m)
        return lk_error_set(err, LK_ERR_ARG, "lk_context_copy: the contexts belong to different models");
    if (dst->cache.dtype != src->cache.dtype)
        return lk_error_set(err, LK_ERR_ARG, "lk_context_copy: KV cache types differ (%s, %s)",
                            lk_dtype_name(dst->cache.dtype), lk_dtype_name(src->cache.dtype));
    if (n < 0 || n > src->cache.n_past || n > dst->cache.n_ctx)
        return lk_error_set(err, LK_ERR_RANGE,
                            "lk_context_copy: %d tokens asked, the source holds %d and the "
                            "destination fits %d", n, src->cache.n_past, dst->cache.n_ctx);
    if (dst == src) {
        dst->cache.n_past = n;
        return LK_OK;
    }
    /* Each layer's first n rows are contiguous in both caches. */
    for (int32_t l = 0; l < dst->cache.n_layer && n > 0; l++) {
        memcpy(lk_kv_k(&dst->cache, l, 0), lk_kv_k(&src->cache, l, 0), (size_t)n * dst->cache.row_bytes);
        memcpy(lk_kv_v(&dst->cache, l, 0), lk_kv_v(&src->cache, l, 0), (size_t)n * dst->cache.row_bytes);
    }
    dst->cache.n_past = n;
    return LK_OK;
}

lk_status lk_eval(lk_context *c, const int32_t *tokens, int32_t n, lk_logits_mode mode,
                  float *logits, lk_error *err) {
    const lk_hparams *hp = &c->m->w.hp;
    if (n <= 0 || !tokens)
        return lk_error_set(err, LK_ERR_ARG, "lk_eval: no tokens to evaluate");
    if (mode != LK_LOGITS_NONE && !logits)
        return lk_error_set(err, LK_ERR_ARG, "lk_eval: logits buffer is NULL");
    if ((int64_t)c->cache.n_past + n > c->cache.n_ctx)
        return lk_error_set(err, LK_ERR_RANGE,
                            "context full: %d tokens already in the context + %d new > context "
                            "size %d (raise --ctx-size or shorten the prompt)",
                            c->cache.n_past, n, c->cache.n_ctx);
    for (int32_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= hp->n_vocab)
            return lk_error_set(err, LK_ERR_ARG, "token id %d at index %d is outside the vocabulary "
                                "(0..%d)", tokens[i], i, hp->n_vocab - 1);
    lk_forward_ctx f = {&c->m->w, c->m->kern, &c->m->rope, c->m->tp};
    for (int32_t done = 0; done < n;) {
        int32_t chunk = n - done < c->rs.n_batch ? n - done : c->rs.n_batch;
        bool last = done + chunk == n;
        float *out = NULL;
        if (mode == LK_LOGITS_ALL) out = logits + (size_t)done * (size_t)hp->n_vocab;
        else if (mode == LK_LOGITS_LAST && last) out = logits;
        lk_forward(&f, &c->cache, &c->rs, tokens + done, chunk, out, mode == LK_LOGITS_ALL);
        done += chunk;
    }
    return LK_OK;
}

lk_status lk_eval_multi(lk_context *const *ctxs, const int32_t *tokens, int32_t n, float *logits,
                        lk_error *err) {
    if (n <= 0 || !ctxs || !tokens || !logits)
        return lk_error_set(err, LK_ERR_ARG, "lk_eval_multi: no sequences, tokens or logits");
    const lk_model *m = ctxs[0]->m;
    const lk_hparams *hp = &m->w.hp;
    /* Everything is checked before any compute, so a refusal changes nothing. */
    lk_context *host = ctxs[0];
    for (int32_t i = 0; i < n; i++) {
        const lk_context *c = ctxs[i];
        if (c->m != m)
            return lk_error_set(err, LK_ERR_ARG, "lk_eval_multi: sequence %d belongs to another model", i);
        for (int32_t j = 0; j < i; j++)
            if (ctxs[j] == c)
                return lk_error_set(err, LK_ERR_ARG,
                                    "lk_eval_multi: sequences %d and %d are the same context", j, i);
        if (c->cache.n_past + 1 > c->cache.n_ctx)
            return lk_error_set(err, LK_ERR_RANGE,
                                "context full: sequence %d holds %d tokens, its context size "
                                "(raise --ctx-size)", i, c->cache.n_past);
        if (tokens[i] < 0 || tokens[i] >= hp->n_vocab)
            return lk_error_set(err, LK_ERR_ARG, "token id %d of sequence %d is outside the "
                                "vocabulary (0..%d)", tokens[i], i, hp->n_vocab - 1);
        /* The run state whose attention scratch fits every sequence. */
        if (c->rs.n_ctx > host->rs.n_ctx) host = ctxs[i];
    }
    lk_forward_ctx f = {&m->w, m->kern, &m->rope, m->tp};
    lk_run_state *s = &host->rs;
    for (int32_t done = 0; done < n;) {
        int32_t chunk = n - done < s->n_batch ? n - done : s->n_batch;
        for (int32_t t = 0; t < chunk; t++) {
            s->row_cache[t] = &ctxs[done + t]->cache;
            s->row_pos[t] = ctxs[done + t]->cache.n_past;
        }
        lk_forward_rows(&f, s, tokens + done, chunk, logits + (size_t)done * (size_t)hp->n_vocab,
                        true);
        done += chunk;
    }
    return LK_OK;
}
