/* Fuzz target: building a model from hyper-parameters and a tensor table
 * that a file could hold, then evaluating a few tokens. The input bytes
 * choose the architecture, small dimensions, each tensor's dtype and shape
 * (right or wrong), and the token ids; llmkit must either refuse with an
 * error or run without crashing, whatever the combination. Dimensions stay
 * small so each run takes microseconds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmkit.h"

#define MAX_T 96

typedef struct {
    const uint8_t *p;
    size_t n;
} bytes;

static uint8_t take(bytes *b) {
    if (!b->n) return 0;
    b->n--;
    return *b->p++;
}

typedef struct {
    lk_tensor_info t[MAX_T];
    char names[MAX_T][48];
    void *data[MAX_T];
    size_t n;
} table;

static const lk_dtype k_types[] = {LK_DTYPE_F32, LK_DTYPE_F16, LK_DTYPE_BF16, LK_DTYPE_Q4_0,
                                   LK_DTYPE_I32};

/* Adds a tensor; one byte in eight makes its shape or type wrong. */
static void add(table *tb, bytes *b, const char *name, int64_t rows, int64_t cols) {
    if (tb->n >= MAX_T) return;
    uint8_t c = take(b);
    if (c == 0xff) return; /* missing */
    size_t i = tb->n++;
    snprintf(tb->names[i], sizeof tb->names[i], "%s", name);
    lk_tensor_info *t = &tb->t[i];
    t->name = tb->names[i];
    t->dtype = k_types[(c >> 4) % 3];
    if ((c & 7) == 7) t->dtype = k_types[(c >> 4) % 5];
    if ((c & 7) == 6) rows += 1;
    if ((c & 7) == 5 && cols) cols = 0;
    t->n_dims = cols ? 2 : 1;
    t->shape[0] = rows;
    t->shape[1] = cols;
    size_t count = (size_t)rows * (size_t)(cols ? cols : 1);
    size_t es = t->dtype == LK_DTYPE_F32 || t->dtype == LK_DTYPE_I32 ? 4 : 2;
    t->nbytes = count * es;
    if ((c & 7) == 4) t->nbytes += 2;
    tb->data[i] = calloc(1, (size_t)t->nbytes + 8);
    t->data = tb->data[i];
    /* a little signal in the data: small values from the input */
    if (t->dtype == LK_DTYPE_F32)
        for (size_t j = 0; j < count && j < 64; j++)
            ((float *)tb->data[i])[j] = (float)(int8_t)take(b) / 64.0f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bytes b = {data, size};
    static const char *archs[] = {"llama", "qwen2", "qwen3", "gemma",
                                  "gemma2", "phi3", "gpt2", "bert"};
    lk_hparams hp;
    memset(&hp, 0, sizeof hp);
    snprintf(hp.arch, sizeof hp.arch, "%s", archs[take(&b) % 8]);
    bool gpt2 = strcmp(hp.arch, "gpt2") == 0, phi3 = strcmp(hp.arch, "phi3") == 0;
    hp.n_head_kv = 1 + take(&b) % 3;
    hp.n_head = hp.n_head_kv * (1 + take(&b) % 3);
    hp.head_dim = 1 + take(&b) % 9;
    hp.n_embd = 1 + take(&b) % 24;
    hp.n_ff = 1 + take(&b) % 20;
    hp.n_layer = 1 + take(&b) % 2;
    hp.n_vocab = 1 + take(&b) % 16;
    hp.n_ctx_train = (int8_t)take(&b);
    hp.norm = gpt2 ? LK_NORM_LAYER : (lk_norm_kind)(take(&b) % 3);
    hp.norm_eps = 1e-5f;
    hp.act = (lk_activation)(take(&b) % 3);
    hp.rope_layout = gpt2 ? LK_ROPE_NONE : (lk_rope_layout)(take(&b) % 3);
    hp.rope_theta = (float)take(&b) * 100.0f;
    hp.n_rot = (int8_t)take(&b) % 12;
    hp.rope_scaling = (lk_rope_scaling)(take(&b) % 3);
    hp.rope_factor = (float)(int8_t)take(&b) / 8.0f;
    hp.rope_orig_ctx = (int8_t)take(&b);
    hp.attn_qkv_bias = take(&b) & 1;
    hp.qk_norm = take(&b) & 1;
    hp.attn_softcap = (float)(int8_t)take(&b);
    hp.final_softcap = (float)(int8_t)take(&b);
    hp.sliding_window = (int8_t)take(&b);
    hp.query_pre_attn_scalar = (float)(int8_t)take(&b);
    hp.embd_scale = take(&b) & 1;
    hp.norm_plus_one = take(&b) & 1;

    const int64_t D = hp.n_embd, d = hp.head_dim, qd = (int64_t)hp.n_head * d,
                  kvd = (int64_t)hp.n_head_kv * d, F = hp.n_ff, V = hp.n_vocab;
    static table tb;
    memset(&tb, 0, sizeof tb);
    char name[48];
    add(&tb, &b, "token_embd.weight", V, D);
    add(&tb, &b, "output_norm.weight", D, 0);
    if (gpt2) {
        add(&tb, &b, "output_norm.bias", D, 0);
        add(&tb, &b, "position_embd.weight", 8, D);
    }
    if (take(&b) & 1) add(&tb, &b, "output.weight", V, D);
    for (int l = 0; l < hp.n_layer; l++) {
#define ADD(s, r, c) (snprintf(name, sizeof name, "blk.%d." s, l), add(&tb, &b, name, r, c))
        ADD("attn_norm.weight", D, 0);
        ADD("attn_norm.bias", D, 0);
        if (phi3 || gpt2) {
            ADD("attn_qkv.weight", qd + 2 * kvd, D);
            ADD("attn_qkv.bias", qd + 2 * kvd, 0);
        } else {
            ADD("attn_q.weight", qd, D);
            ADD("attn_k.weight", kvd, D);
            ADD("attn_v.weight", kvd, D);
            ADD("attn_q.bias", qd, 0);
            ADD("attn_k.bias", kvd, 0);
            ADD("attn_v.bias", kvd, 0);
        }
        ADD("attn_output.weight", D, qd);
        ADD("attn_output.bias", D, 0);
        ADD("attn_q_norm.weight", d, 0);
        ADD("attn_k_norm.weight", d, 0);
        ADD("post_attention_norm.weight", D, 0);
        ADD("post_ffw_norm.weight", D, 0);
        ADD("ffn_norm.weight", D, 0);
        ADD("ffn_norm.bias", D, 0);
        if (!phi3) ADD("ffn_gate.weight", F, D);
        ADD("ffn_up.weight", phi3 ? 2 * F : F, D);
        ADD("ffn_up.bias", F, 0);
        ADD("ffn_down.weight", D, F);
        ADD("ffn_down.bias", D, 0);
#undef ADD
    }

    lk_model *m = NULL;
    lk_error err;
    lk_model_params mp;
    lk_model_params_default(&mp);
    mp.n_threads = 1;
    if (lk_model_from_tensors(&hp, tb.t, tb.n, &mp, &m, &err) == LK_OK) {
        lk_context_params cp;
        lk_context_params_default(&cp);
        cp.n_ctx = 1 + take(&b) % 8;
        cp.n_batch = 1 + take(&b) % 4;
        cp.kv_type = take(&b) & 1 ? LK_DTYPE_F32 : LK_DTYPE_F16;
        lk_context *c = NULL;
        if (lk_context_new(m, &cp, &c, &err) == LK_OK) {
            int32_t toks[6];
            int n = 1 + take(&b) % 6;
            for (int i = 0; i < n; i++) toks[i] = (int8_t)take(&b);
            float *logits = malloc((size_t)n * (size_t)V * sizeof(float));
            lk_eval(c, toks, n, take(&b) % 3 == 0 ? LK_LOGITS_ALL : LK_LOGITS_LAST, logits, &err);
            free(logits);
            lk_context_free(c);
        }
        lk_model_free(m);
    }
    for (size_t i = 0; i < tb.n; i++) free(tb.data[i]);
    return 0;
}
