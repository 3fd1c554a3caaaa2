/* Wiring a llama-family model's weights from a tensor table: every tensor
 * is looked up by its internal (GGUF-style) name and its shape, dtype and
 * byte size are checked before the forward pass may touch it. */
#include "model/weights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tensor/dtype.h"

typedef struct {
    lk_weights *w;              /* counts n_params / n_bytes */
    const lk_tensor_info *tensors;
    size_t n;
    const lk_kernels *kern;
    float *store;       /* bump allocator over w->f32_store */
    size_t store_left;  /* floats */
    bool plus_one;      /* gemma: norm weights are stored as w - 1 */
} builder;

static const lk_tensor_info *find(const builder *b, const char *name) {
    for (size_t i = 0; i < b->n; i++)
        if (b->tensors[i].name && strcmp(b->tensors[i].name, name) == 0) return &b->tensors[i];
    return NULL;
}

static lk_status shape_error(const lk_tensor_info *t, int64_t rows, int64_t cols, lk_error *err) {
    char got[96] = "", want[64];
    int len = 0;
    for (int32_t i = 0; i < t->n_dims && i < 4 && len < 80; i++)
        len += snprintf(got + len, sizeof got - (size_t)len, "%s%lld", i ? ", " : "",
                        (long long)t->shape[i]);
    if (cols > 0) snprintf(want, sizeof want, "[%lld, %lld]", (long long)rows, (long long)cols);
    else snprintf(want, sizeof want, "[%lld]", (long long)rows);
    return lk_error_set(err, LK_ERR_FORMAT,
                        "tensor %s has shape [%s], but the model's hyper-parameters imply %s "
                        "(is the config right for these weights?)",
                        t->name, got, want);
}

/* A linear weight [rows][cols]; absent -> LK_ERR_NOT_FOUND unless optional. */
static lk_status get_matrix(builder *b, const char *name, int64_t rows, int64_t cols,
                            bool optional, lk_matrix *out, lk_error *err) {
    memset(out, 0, sizeof *out);
    const lk_tensor_info *t = find(b, name);
    if (!t) {
        if (optional) return LK_OK;
        return lk_error_set(err, LK_ERR_NOT_FOUND, "the model has no tensor %s", name);
    }
    if (t->n_dims != 2 || t->shape[0] != rows || t->shape[1] != cols)
        return shape_error(t, rows, cols, err);
    out->data = t->data;
    out->dtype = t->dtype;
    out->rows = rows;
    out->cols = cols;
    /* An unsupported dtype is reported before a size that does not fit it. */
    if (!lk_dtype_row_bytes(t->dtype, cols, &out->row_bytes)) out->row_bytes = 0;
    lk_status st = lk_matrix_check(b->kern, out, name, err);
    if (st != LK_OK) return st;
    b->w->n_params += (uint64_t)rows * (uint64_t)cols;
    b->w->n_bytes += t->nbytes;
    if (out->row_bytes > UINT64_MAX / (uint64_t)rows || out->row_bytes * (uint64_t)rows != t->nbytes ||
        !t->data)
        return lk_error_set(err, LK_ERR_FORMAT, "tensor %s: %llu bytes of data, expected %llu",
                            name, (unsigned long long)t->nbytes,
                            (unsigned long long)(out->row_bytes * (uint64_t)rows));
    return LK_OK;
}

/* Rows [r0, r0 + n) of a matrix, as a matrix of its own (a fused tensor's part). */
static lk_matrix rows_of(const lk_matrix *m, int64_t r0, int64_t n) {
    lk_matrix v = *m;
    v.data = (const char *)m->data + (size_t)r0 * m->row_bytes;
    v.rows = n;
    return v;
}

/* A vector [n] converted to an F32 copy; *out stays NULL when absent and optional. */
static lk_status get_vector(builder *b, const char *name, int64_t n, bool optional, bool norm,
                            const float **out, lk_error *err) {
    *out = NULL;
    const lk_tensor_info *t = find(b, name);
    if (!t) {
        if (optional) return LK_OK;
        return lk_error_set(err, LK_ERR_NOT_FOUND, "the model has no tensor %s", name);
    }
    if (t->n_dims != 1 || t->shape[0] != n) return shape_error(t, n, 0, err);
    const lk_dtype_kernels *dk = lk_kernels_dtype(b->kern, t->dtype);
    uint64_t nb;
    if (!dk || !lk_dtype_row_bytes(t->dtype, n, &nb)) {
        const char *dn = lk_dtype_name(t->dtype);
        return lk_error_set(err, LK_ERR_UNSUPPORTED,
                            "tensor %s has type %s; vectors must be f32, f16 or bf16", name,
                            dn ? dn : "unknown");
    }
    if (nb != t->nbytes || !t->data)
        return lk_error_set(err, LK_ERR_FORMAT, "tensor %s: %llu bytes of data, expected %llu",
                            name, (unsigned long long)t->nbytes, (unsigned long long)nb);
    if ((size_t)n > b->store_left)
        return lk_error_set(err, LK_ERR_INTERNAL, "weights: vector store too small for %s", name);
    b->w->n_params += (uint64_t)n;
    b->w->n_bytes += t->nbytes;
    float *v = b->store;
    b->store += n;
    b->store_left -= (size_t)n;
    dk->to_f32(n, t->data, v);
    if (norm && b->plus_one)
        for (int64_t i = 0; i < n; i++) v[i] += 1.0f;
    *out = v;
    return LK_OK;
}

static lk_status check_hparams(const lk_hparams *hp, lk_error *err) {
    static const char *archs[] = {"llama", "mistral", "qwen2", "qwen3",
                                  "gemma", "gemma2", "phi3", "gpt2"};
    bool known = false;
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
        if (strcmp(hp->arch, archs[i]) == 0) known = true;
    if (!known)
        return lk_error_set(err, LK_ERR_UNSUPPORTED,
                            "architecture \"%.31s\" cannot be run yet (supported: %s)", hp->arch,
                            LK_SUPPORTED_ARCHS);
    const int32_t big = 1 << 24;
    if (hp->n_embd <= 0 || hp->n_embd > big || hp->n_layer <= 0 || hp->n_layer > 4096 ||
        hp->n_head <= 0 || hp->n_head > 4096 || hp->n_head_kv <= 0 ||
        hp->n_head % hp->n_head_kv != 0 || hp->head_dim <= 0 || hp->head_dim > 4096 ||
        hp->n_ff <= 0 || hp->n_ff > big || hp->n_vocab <= 0 || hp->n_vocab > big)
        return lk_error_set(err, LK_ERR_FORMAT,
                            "hyper-parameters out of range (n_embd %d, n_layer %d, n_head %d, "
                            "n_head_kv %d, head_dim %d, n_ff %d, n_vocab %d)",
                            hp->n_embd, hp->n_layer, hp->n_head, hp->n_head_kv, hp->head_dim,
                            hp->n_ff, hp->n_vocab);
    if (hp->norm != LK_NORM_RMS && hp->norm != LK_NORM_LAYER)
        return lk_error_set(err, LK_ERR_UNSUPPORTED, "%s: unknown normalisation kind %d", hp->arch,
                            (int)hp->norm);
    if (hp->rope_layout == LK_ROPE_NONE && strcmp(hp->arch, "gpt2") != 0)
        return lk_error_set(err, LK_ERR_UNSUPPORTED,
                            "%s without rotary embeddings is not supported (only gpt2 learns "
                            "positions)", hp->arch);
    return LK_OK;
}

static lk_status build_layer(builder *b, const lk_hparams *hp, int32_t il, lk_layer_weights *l,
                             lk_error *err) {
    const int64_t D = hp->n_embd, q_dim = (int64_t)hp->n_head * hp->head_dim,
                  kv_dim = (int64_t)hp->n_head_kv * hp->head_dim, F = hp->n_ff;
    char name[96];
    lk_status st = LK_OK;
#define NAME(suffix) (snprintf(name, sizeof name, "blk.%d." suffix, il), name)
#define TRY(call)                                                                        \
    do {                                                                                 \
        if ((st = (call)) != LK_OK) return st;                                           \
    } while (0)
    bool gemma2 = strcmp(hp->arch, "gemma2") == 0, gpt2 = strcmp(hp->arch, "gpt2") == 0;
    bool layer_norm = hp->norm == LK_NORM_LAYER;
    TRY(get_vector(b, NAME("attn_norm.weight"), D, false, true, &l->attn_norm, err));
    TRY(get_vector(b, NAME("attn_norm.bias"), D, !layer_norm, false, &l->attn_norm_b, err));
    /* q, k, v: separate, or one fused [q; k; v] matrix (phi3, gpt2). */
    lk_matrix qkv;
    TRY(get_matrix(b, NAME("attn_qkv.weight"), q_dim + 2 * kv_dim, D, true, &qkv, err));
    if (qkv.data) {
        l->wq = rows_of(&qkv, 0, q_dim);
        l->wk = rows_of(&qkv, q_dim, kv_dim);
        l->wv = rows_of(&qkv, q_dim + kv_dim, kv_dim);
        const float *bqkv;
        TRY(get_vector(b, NAME("attn_qkv.bias"), q_dim + 2 * kv_dim, !hp->attn_qkv_bias, false,
                       &bqkv, err));
        if (bqkv) {
            l->bq = bqkv;
            l->bk = bqkv + q_dim;
            l->bv = bqkv + q_dim + kv_dim;
        }
    } else {
        TRY(get_matrix(b, NAME("attn_q.weight"), q_dim, D, false, &l->wq, err));
        TRY(get_matrix(b, NAME("attn_k.weight"), kv_dim, D, false, &l->wk, err));
        TRY(get_matrix(b, NAME("attn_v.weight"), kv_dim, D, false, &l->wv, err));
        bool need_bias = hp->attn_qkv_bias;
        TRY(get_vector(b, NAME("attn_q.bias"), q_dim, !need_bias, false, &l->bq, err));
        TRY(get_vector(b, NAME("attn_k.bias"), kv_dim, !need_bias, false, &l->bk, err));
        TRY(get_vector(b, NAME("attn_v.bias"), kv_dim, !need_bias, false, &l->bv, err));
    }
    TRY(get_matrix(b, NAME("attn_output.weight"), D, q_dim, false, &l->wo, err));
    TRY(get_vector(b, NAME("attn_output.bias"), D, !gpt2, false, &l->bo, err));
    TRY(get_vector(b, NAME("attn_q_norm.weight"), hp->head_dim, !hp->qk_norm, true, &l->q_norm, err));
    TRY(get_vector(b, NAME("attn_k_norm.weight"), hp->head_dim, !hp->qk_norm, true, &l->k_norm, err));
    TRY(get_vector(b, NAME("post_attention_norm.weight"), D, !gemma2, true, &l->post_attn_norm, err));
    TRY(get_vector(b, NAME("ffn_norm.weight"), D, false, true, &l->ffn_norm, err));
    TRY(get_vector(b, NAME("ffn_norm.bias"), D, !layer_norm, false, &l->ffn_norm_b, err));
    /* MLP: gate and up separate, fused [gate; up] in ffn_up (phi3), or no
     * gate at all (gpt2). */
    if (gpt2) {
        TRY(get_matrix(b, NAME("ffn_up.weight"), F, D, false, &l->w_up, err));
        TRY(get_vector(b, NAME("ffn_up.bias"), F, false, false, &l->b_up, err));
        TRY(get_vector(b, NAME("ffn_down.bias"), D, false, false, &l->b_down, err));
    } else if (!find(b, NAME("ffn_gate.weight"))) {
        lk_matrix gate_up;
        TRY(get_matrix(b, NAME("ffn_up.weight"), 2 * F, D, false, &gate_up, err));
        l->w_gate = rows_of(&gate_up, 0, F);
        l->w_up = rows_of(&gate_up, F, F);
    } else {
        TRY(get_matrix(b, NAME("ffn_gate.weight"), F, D, false, &l->w_gate, err));
        TRY(get_matrix(b, NAME("ffn_up.weight"), F, D, false, &l->w_up, err));
        /* llama's mlp_bias: used when present */
        TRY(get_vector(b, NAME("ffn_gate.bias"), F, true, false, &l->b_gate, err));
        TRY(get_vector(b, NAME("ffn_up.bias"), F, true, false, &l->b_up, err));
        TRY(get_vector(b, NAME("ffn_down.bias"), D, true, false, &l->b_down, err));
    }
    TRY(get_matrix(b, NAME("ffn_down.weight"), D, F, false, &l->w_down, err));
    TRY(get_vector(b, NAME("post_ffw_norm.weight"), D, !gemma2, true, &l->post_ffn_norm, err));
#undef NAME
#undef TRY
    return LK_OK;
}

lk_status lk_weights_build(lk_weights *w, const lk_hparams *hp, const lk_tensor_info *tensors,
                           size_t n_tensors, const lk_kernels *kern, lk_error *err) {
    memset(w, 0, sizeof *w);
    lk_status st = check_hparams(hp, err);
    if (st != LK_OK) return st;
    w->hp = *hp;
    const int64_t D = hp->n_embd, q_dim = (int64_t)hp->n_head * hp->head_dim,
                  kv_dim = (int64_t)hp->n_head_kv * hp->head_dim;
    /* Upper bound on the F32 vectors of one layer (every optional one present). */
    size_t per_layer = (size_t)(9 * D + 2 * q_dim + 4 * kv_dim + 2 * (int64_t)hp->head_dim +
                                2 * (int64_t)hp->n_ff);
    size_t total = per_layer * (size_t)hp->n_layer + 2 * (size_t)D + (size_t)hp->head_dim;
    w->f32_store = malloc(total * sizeof(float));
    w->layers = calloc((size_t)hp->n_layer, sizeof *w->layers);
    if (!w->f32_store || !w->layers) {
        lk_weights_free(w);
        return lk_error_set(err, LK_ERR_NOMEM, "weights: out of memory");
    }
    builder b = {w, tensors, n_tensors, kern, w->f32_store, total, hp->norm_plus_one};
    st = get_matrix(&b, "token_embd.weight", hp->n_vocab, D, false, &w->tok_embd, err);
    if (st == LK_OK) st = get_vector(&b, "output_norm.weight", D, false, true, &w->out_norm, err);
    if (st == LK_OK)
        st = get_vector(&b, "output_norm.bias", D, hp->norm != LK_NORM_LAYER, false, &w->out_norm_b,
                        err);
    if (st == LK_OK && hp->rope_layout != LK_ROPE_NONE) {
        int32_t n_rot = hp->n_rot > 0 ? hp->n_rot : hp->head_dim;
        st = get_vector(&b, "rope_freqs.weight", n_rot / 2, true, false, &w->rope_freqs, err);
        for (int32_t i = 0; st == LK_OK && w->rope_freqs && i < n_rot / 2; i++)
            if (!(w->rope_freqs[i] > 0.0f) || isinf(w->rope_freqs[i]))
                st = lk_error_set(err, LK_ERR_FORMAT,
                                  "rope_freqs.weight[%d] = %g: frequency divisors must be "
                                  "positive and finite", i, (double)w->rope_freqs[i]);
    }
    if (st == LK_OK && hp->rope_layout == LK_ROPE_NONE) {
        const lk_tensor_info *pe = find(&b, "position_embd.weight");
        int64_t n_pos = pe && pe->n_dims == 2 ? pe->shape[0] : hp->n_ctx_train;
        if (n_pos <= 0 || n_pos > (1 << 24))
            st = lk_error_set(err, LK_ERR_FORMAT, "position_embd.weight: bad number of positions");
        else
            st = get_matrix(&b, "position_embd.weight", n_pos, D, false, &w->pos_embd, err);
    }
    if (st == LK_OK) {
        st = get_matrix(&b, "output.weight", hp->n_vocab, D, true, &w->output, err);
        if (st == LK_OK && !w->output.data) w->output = w->tok_embd; /* tied */
    }
    for (int32_t il = 0; st == LK_OK && il < hp->n_layer; il++)
        st = build_layer(&b, hp, il, &w->layers[il], err);
    if (st != LK_OK) {
        lk_weights_free(w);
        return st;
    }
    return LK_OK;
}

void lk_weights_free(lk_weights *w) {
    if (!w) return;
    free(w->f32_store);
    free(w->packed_store);
    free(w->layers);
    memset(w, 0, sizeof *w);
}
