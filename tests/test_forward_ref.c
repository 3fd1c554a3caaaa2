/* The decoder forward pass (llama family, phi3, gpt2) against the
 * independent PyTorch reference (tests/ref/llama_ref.py, HF modelling
 * equations): for each small
 * random-weight model in tests/golden/, the logits of every position of a
 * 64-token prompt must match within 1e-4 x the logit range (F32 weights and
 * KV cache) and the next 32 greedy tokens must be identical. F16 / BF16
 * weights and an F16 KV cache must match within 2e-2 x range.
 *
 * The weights are regenerated here with the reference script's PRNG
 * (splitmix64 keyed by FNV-1a of each tensor name), so only logits are
 * committed. The JSON's config uses HF names; the few lines below map them
 * to lk_hparams the way an HF config.json is read. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/mmap.h"
#include "format/gguf.h"
#include "format/safetensors.h"
#include "format/tensor_names.h"
#include "quantize/quantize.h"
#include <sys/stat.h>
#include "tensor/dtype.h"
#include "tensor/quant.h"
#include "tensor/rope.h"
#include "test.h"

#define N_PROMPT 64
#define N_GEN 32
#define MAX_T 64

/* ---------------------------------------------------------------- the shared PRNG */

static uint64_t fnv1a64(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ---------------------------------------------------------------- a model in memory */

typedef struct {
    lk_hparams hp;
    lk_tensor_info t[MAX_T];
    char names[MAX_T][64];
    float *f32[MAX_T]; /* generated values */
    void *conv[MAX_T]; /* F16/BF16 copies */
    size_t n;
    int seed;
} mem_model;

static void gen(mem_model *m, const char *name, int64_t rows, int64_t cols, float scale,
                float offset) {
    if (m->n >= MAX_T) return;
    size_t i = m->n++;
    snprintf(m->names[i], sizeof m->names[i], "%s", name);
    int64_t count = cols ? rows * cols : rows;
    float *v = malloc((size_t)count * sizeof *v);
    uint64_t state = fnv1a64(name) ^ ((uint64_t)m->seed * 0x9e3779b97f4a7c15ull);
    for (int64_t j = 0; j < count; j++) {
        float u = (float)(splitmix64(&state) >> 40) / 8388608.0f - 1.0f;
        v[j] = u * scale;
        if (offset != 0.0f) v[j] += offset;
    }
    m->f32[i] = v;
    lk_tensor_info *t = &m->t[i];
    t->name = m->names[i];
    t->dtype = LK_DTYPE_F32;
    t->n_dims = cols ? 2 : 1;
    t->shape[0] = rows;
    t->shape[1] = cols;
    t->data = v;
    t->nbytes = (uint64_t)count * 4;
}

/* Matrices (2-D) to F16 or BF16; vectors stay F32 as HF checkpoints often
 * keep them at higher precision anyway (the loader converts both). */
static void convert(mem_model *m, lk_dtype to) {
    for (size_t i = 0; i < m->n; i++) {
        lk_tensor_info *t = &m->t[i];
        free(m->conv[i]);
        m->conv[i] = NULL;
        int64_t count = t->n_dims == 2 ? t->shape[0] * t->shape[1] : t->shape[0];
        if (to == LK_DTYPE_Q8_0) { /* rows whose length fits the blocks; others stay F32 */
            uint64_t rb;
            if (t->n_dims == 2 && lk_dtype_row_bytes(to, t->shape[1], &rb)) {
                void *q = malloc(rb * (uint64_t)t->shape[0]);
                for (int64_t r = 0; r < t->shape[0]; r++)
                    lk_quantize_row(to, m->f32[i] + r * t->shape[1], (char *)q + r * rb,
                                    t->shape[1]);
                m->conv[i] = q;
                t->dtype = to;
                t->data = q;
                t->nbytes = rb * (uint64_t)t->shape[0];
                continue;
            }
            to = LK_DTYPE_F32;
        }
        if (to == LK_DTYPE_F32 || t->n_dims != 2) {
            t->dtype = LK_DTYPE_F32;
            t->data = m->f32[i];
            t->nbytes = (uint64_t)count * 4;
            continue;
        }
        uint16_t *h = malloc((size_t)count * 2);
        for (int64_t j = 0; j < count; j++)
            h[j] = to == LK_DTYPE_F16 ? lk_f32_to_f16(m->f32[i][j]) : lk_f32_to_bf16(m->f32[i][j]);
        m->conv[i] = h;
        t->dtype = to;
        t->data = h;
        t->nbytes = (uint64_t)count * 2;
    }
}

static void free_model(mem_model *m) {
    for (size_t i = 0; i < m->n; i++) {
        free(m->f32[i]);
        free(m->conv[i]);
    }
}

static double num(const cJSON *o, const char *key, double def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static bool flag(const cJSON *o, const char *key) {
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* HF config -> hparams, and the weights the reference script makes. */
static void build(mem_model *m, const cJSON *cfg, int seed) {
    memset(m, 0, sizeof *m);
    m->seed = seed;
    lk_hparams *hp = &m->hp;
    const char *mt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cfg, "model_type"));
    snprintf(hp->arch, sizeof hp->arch, "%s", mt ? mt : "?");
    bool gemma = strncmp(hp->arch, "gemma", 5) == 0, gemma2 = strcmp(hp->arch, "gemma2") == 0;
    bool phi3 = strcmp(hp->arch, "phi3") == 0, gpt2 = strcmp(hp->arch, "gpt2") == 0;
    if (gpt2) {
        hp->n_embd = (int32_t)num(cfg, "n_embd", 0);
        hp->n_ff = (int32_t)num(cfg, "n_inner", 4 * hp->n_embd);
        hp->n_layer = (int32_t)num(cfg, "n_layer", 0);
        hp->n_head = hp->n_head_kv = (int32_t)num(cfg, "n_head", 0);
        hp->n_ctx_train = (int32_t)num(cfg, "n_positions", 0);
        hp->norm = LK_NORM_LAYER;
        hp->norm_eps = (float)num(cfg, "layer_norm_epsilon", 1e-5);
        hp->head_dim = hp->n_head ? hp->n_embd / hp->n_head : 0;
        hp->rope_layout = LK_ROPE_NONE;
        hp->attn_qkv_bias = true;
        hp->act = LK_ACT_GELU_TANH; /* gelu_new */
    } else {
        hp->n_embd = (int32_t)num(cfg, "hidden_size", 0);
        hp->n_ff = (int32_t)num(cfg, "intermediate_size", 0);
        hp->n_layer = (int32_t)num(cfg, "num_hidden_layers", 0);
        hp->n_head = (int32_t)num(cfg, "num_attention_heads", 0);
        hp->n_head_kv = (int32_t)num(cfg, "num_key_value_heads", hp->n_head);
        hp->head_dim = (int32_t)num(cfg, "head_dim", hp->n_head ? hp->n_embd / hp->n_head : 0);
        hp->n_ctx_train = (int32_t)num(cfg, "max_position_embeddings", 0);
        hp->norm = LK_NORM_RMS;
        hp->norm_eps = (float)num(cfg, "rms_norm_eps", 1e-6);
        hp->act = gemma ? LK_ACT_GELU_TANH : LK_ACT_SILU;
        hp->rope_layout = LK_ROPE_HALF;
        hp->attn_qkv_bias = strcmp(hp->arch, "qwen2") == 0 || flag(cfg, "attention_bias");
    }
    bool o_bias = flag(cfg, "attention_bias"), mlp_bias = flag(cfg, "mlp_bias");
    hp->n_vocab = (int32_t)num(cfg, "vocab_size", 0);
    hp->n_rot = (int32_t)(hp->head_dim * num(cfg, "partial_rotary_factor", 1.0));
    hp->rope_theta = (float)num(cfg, "rope_theta", 10000);
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(cfg, "rope_scaling");
    if (cJSON_IsObject(rs)) {
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rs, "rope_type"));
        hp->rope_factor = (float)num(rs, "factor", 1);
        if (type && strcmp(type, "linear") == 0) hp->rope_scaling = LK_ROPE_SCALING_LINEAR;
        if (type && strcmp(type, "llama3") == 0) {
            hp->rope_scaling = LK_ROPE_SCALING_LLAMA3;
            hp->rope_low_freq_factor = (float)num(rs, "low_freq_factor", 1);
            hp->rope_high_freq_factor = (float)num(rs, "high_freq_factor", 4);
            hp->rope_orig_ctx = (int32_t)num(rs, "original_max_position_embeddings", 8192);
        }
    }
    hp->tied_embeddings = flag(cfg, "tie_word_embeddings");
    hp->qk_norm = strcmp(hp->arch, "qwen3") == 0;
    if (strcmp(hp->arch, "mistral") == 0 || gemma2 || phi3)
        hp->sliding_window = (int32_t)num(cfg, "sliding_window", 0);
    if (gemma2) {
        hp->attn_softcap = (float)num(cfg, "attn_logit_softcapping", 0);
        hp->final_softcap = (float)num(cfg, "final_logit_softcapping", 0);
        hp->query_pre_attn_scalar = (float)num(cfg, "query_pre_attn_scalar", 0);
    }
    hp->embd_scale = gemma;
    hp->norm_plus_one = gemma;
    hp->bos_id = hp->pad_id = -1;

    const int64_t D = hp->n_embd, F = hp->n_ff, V = hp->n_vocab, d = hp->head_dim;
    const int64_t qd = hp->n_head * d, kvd = hp->n_head_kv * d;
    const float norm_off = gemma ? 0.0f : 1.0f;
    char name[64];
#define LIN(suffix, out, in)                                                          \
    (snprintf(name, sizeof name, "blk.%d." suffix, l),                                \
     gen(m, name, out, in, 2.0f / sqrtf((float)(in)), 0.0f))
#define VEC(suffix, n, norm)                                                          \
    (snprintf(name, sizeof name, "blk.%d." suffix, l),                                \
     gen(m, name, n, 0, 0.2f, (norm) ? norm_off : 0.0f))
    gen(m, "token_embd.weight", V, D, gemma ? 0.05f : 0.4f, 0.0f);
    if (gpt2) gen(m, "position_embd.weight", hp->n_ctx_train, D, 0.4f, 0.0f);
    for (int l = 0; l < hp->n_layer; l++) {
        VEC("attn_norm.weight", D, true);
        if (gpt2) VEC("attn_norm.bias", D, false);
        if (phi3 || gpt2) {
            LIN("attn_qkv.weight", qd + 2 * kvd, D);
        } else {
            LIN("attn_q.weight", qd, D);
            LIN("attn_k.weight", kvd, D);
            LIN("attn_v.weight", kvd, D);
        }
        LIN("attn_output.weight", D, qd);
        if (gpt2) {
            VEC("attn_qkv.bias", qd + 2 * kvd, false);
            VEC("attn_output.bias", D, false);
        } else if (hp->attn_qkv_bias) {
            VEC("attn_q.bias", qd, false);
            VEC("attn_k.bias", kvd, false);
            VEC("attn_v.bias", kvd, false);
        }
        if (o_bias) VEC("attn_output.bias", D, false);
        if (mlp_bias) {
            VEC("ffn_gate.bias", F, false);
            VEC("ffn_up.bias", F, false);
            VEC("ffn_down.bias", D, false);
        }
        if (hp->qk_norm) {
            VEC("attn_q_norm.weight", d, true);
            VEC("attn_k_norm.weight", d, true);
        }
        if (gemma2) {
            VEC("post_attention_norm.weight", D, true);
            VEC("post_ffw_norm.weight", D, true);
        }
        VEC("ffn_norm.weight", D, true);
        if (gpt2) {
            VEC("ffn_norm.bias", D, false);
            LIN("ffn_up.weight", F, D);
            VEC("ffn_up.bias", F, false);
            VEC("ffn_down.bias", D, false);
        } else if (phi3) {
            LIN("ffn_up.weight", 2 * F, D);
        } else {
            LIN("ffn_gate.weight", F, D);
            LIN("ffn_up.weight", F, D);
        }
        LIN("ffn_down.weight", D, F);
    }
#undef LIN
#undef VEC
    gen(m, "output_norm.weight", D, 0, 0.2f, norm_off);
    if (gpt2) gen(m, "output_norm.bias", D, 0, 0.2f, 0.0f);
    if (!hp->tied_embeddings) gen(m, "output.weight", V, D, 2.0f / sqrtf((float)D), 0.0f);
}

/* ---------------------------------------------------------------- goldens */

typedef struct {
    cJSON *doc;
    int32_t prompt[N_PROMPT];
    int32_t greedy[N_GEN];
    float *logits; /* [N_PROMPT][V] */
    int32_t vocab;
} golden;

static bool load_golden(const char *name, golden *g) {
    memset(g, 0, sizeof *g);
    char path[4096];
    char *text;
    size_t size;
    lk_error err;
    snprintf(path, sizeof path, "%s/tests/golden/%s.json", lk_test_source_dir(), name);
    if (lk_read_file(path, 1 << 20, &text, &size, &err) != LK_OK) return false;
    g->doc = cJSON_Parse(text);
    free(text);
    if (!g->doc) return false;
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(g->doc, "prompt");
    const cJSON *gr = cJSON_GetObjectItemCaseSensitive(g->doc, "greedy");
    if (cJSON_GetArraySize(pr) != N_PROMPT || cJSON_GetArraySize(gr) != N_GEN) return false;
    for (int i = 0; i < N_PROMPT; i++) g->prompt[i] = cJSON_GetArrayItem(pr, i)->valueint;
    for (int i = 0; i < N_GEN; i++) g->greedy[i] = cJSON_GetArrayItem(gr, i)->valueint;
    snprintf(path, sizeof path, "%s/tests/golden/%s.logits", lk_test_source_dir(), name);
    if (lk_read_file(path, 1 << 22, &text, &size, &err) != LK_OK) return false;
    uint32_t rows, vocab;
    bool ok = size >= 16 && memcmp(text, "LKLOGIT1", 8) == 0;
    if (ok) {
        memcpy(&rows, text + 8, 4);
        memcpy(&vocab, text + 12, 4);
        ok = rows == N_PROMPT && vocab > 0 && vocab < 100000 &&
             size == 16 + (size_t)rows * vocab * 4;
    }
    if (ok) {
        g->vocab = (int32_t)vocab;
        g->logits = malloc((size_t)rows * vocab * 4);
        memcpy(g->logits, text + 16, (size_t)rows * vocab * 4);
    }
    free(text);
    return ok;
}

static void free_golden(golden *g) {
    cJSON_Delete(g->doc);
    free(g->logits);
}

/* Worst |diff| / range over the prompt positions (range per position). */
static double compare_prompt(lk_model *model, lk_dtype kv, const golden *g, bool check_greedy,
                             const char *what) {
    lk_context_params cp;
    lk_context_params_default(&cp);
    cp.n_ctx = N_PROMPT + N_GEN;
    cp.n_batch = 24; /* a prompt in three uneven chunks */
    cp.kv_type = kv;
    lk_context *c;
    lk_error err;
    CHECK_OK(lk_context_new(model, &cp, &c, &err), &err);
    if (!c) return INFINITY;
    const int32_t V = g->vocab;
    float *logits = malloc((size_t)N_PROMPT * V * sizeof *logits);
    CHECK_OK(lk_eval(c, g->prompt, N_PROMPT, LK_LOGITS_ALL, logits, &err), &err);
    double worst = 0;
    for (int t = 0; t < N_PROMPT; t++) {
        const float *want = g->logits + (size_t)t * V, *got = logits + (size_t)t * V;
        float lo = want[0], hi = want[0];
        double maxd = 0;
        for (int j = 0; j < V; j++) {
            if (want[j] < lo) lo = want[j];
            if (want[j] > hi) hi = want[j];
            double dd = fabs((double)got[j] - want[j]);
            if (dd > maxd || isnan(dd)) maxd = isnan(dd) ? INFINITY : dd;
        }
        double rel = maxd / (hi - lo);
        if (rel > worst) worst = rel;
    }
    if (check_greedy) {
        int tok = 0, first_bad = -1;
        for (int i = 0; i < V; i++)
            if (logits[(size_t)(N_PROMPT - 1) * V + i] > logits[(size_t)(N_PROMPT - 1) * V + tok]) tok = i;
        for (int i = 0; i < N_GEN; i++) {
            if (tok != g->greedy[i] && first_bad < 0) first_bad = i;
            if (i == N_GEN - 1) break;
            CHECK_OK(lk_eval(c, &tok, 1, LK_LOGITS_LAST, logits, &err), &err);
            tok = 0;
            for (int j = 1; j < V; j++)
                if (logits[j] > logits[tok]) tok = j;
        }
        CHECK_MSG(first_bad < 0, "%s: greedy token %d differs from the reference", what, first_bad);
    }
    free(logits);
    lk_context_free(c);
    return worst;
}

/* The prompt one token at a time (the decode path: F16 weights take x
 * rounded to F16 there, src/tensor/matmul.c); worst |diff| / range. */
static double compare_decode(lk_model *model, const golden *g) {
    lk_context_params cp;
    lk_context_params_default(&cp);
    cp.n_ctx = N_PROMPT;
    cp.kv_type = LK_DTYPE_F16;
    lk_context *c;
    lk_error err;
    CHECK_OK(lk_context_new(model, &cp, &c, &err), &err);
    if (!c) return INFINITY;
    const int32_t V = g->vocab;
    float *logits = malloc((size_t)V * sizeof *logits);
    double worst = 0;
    for (int t = 0; t < N_PROMPT; t++) {
        CHECK_OK(lk_eval(c, &g->prompt[t], 1, LK_LOGITS_LAST, logits, &err), &err);
        const float *want = g->logits + (size_t)t * V;
        float lo = want[0], hi = want[0];
        double maxd = 0;
        for (int j = 0; j < V; j++) {
            if (want[j] < lo) lo = want[j];
            if (want[j] > hi) hi = want[j];
            double dd = fabs((double)logits[j] - want[j]);
            if (dd > maxd || isnan(dd)) maxd = isnan(dd) ? INFINITY : dd;
        }
        if (maxd / (hi - lo) > worst) worst = maxd / (hi - lo);
    }
    free(logits);
    lk_context_free(c);
    return worst;
}

static void test_model(const char *name) {
    golden g;
    if (!load_golden(name, &g)) {
        CHECK_MSG(0, "tests/golden/%s.{json,logits} missing or malformed", name);
        free_golden(&g);
        return;
    }
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(g.doc, "config");
    int seed = (int)num(g.doc, "seed", 0);
    static mem_model m;
    build(&m, cfg, seed);
    CHECK_EQ_INT(m.hp.n_vocab, g.vocab);
    struct {
        lk_dtype w, kv;
        double tol;
        bool greedy;
    } runs[] = {
        {LK_DTYPE_F32, LK_DTYPE_F32, 1e-4, true},
        {LK_DTYPE_F32, LK_DTYPE_F16, 2e-2, false},
        {LK_DTYPE_F16, LK_DTYPE_F16, 2e-2, false},
        {LK_DTYPE_BF16, LK_DTYPE_F32, 2e-2, false},
        {LK_DTYPE_Q8_0, LK_DTYPE_F32, 3e-2, false}, /* quantization error, not arithmetic */
    };
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        convert(&m, runs[r].w);
        lk_model *model;
        lk_error err;
        CHECK_OK(lk_model_from_tensors(&m.hp, m.t, m.n, NULL, &model, &err), &err);
        if (!model) continue;
        char what[96];
        snprintf(what, sizeof what, "%s (weights %s, kv %s)", name, lk_dtype_name(runs[r].w),
                 lk_dtype_name(runs[r].kv));
        double rel = compare_prompt(model, runs[r].kv, &g, runs[r].greedy, what);
        printf("%-36s max|diff| = %.2e x range\n", what, rel);
        CHECK_MSG(rel <= runs[r].tol, "%s: max|diff| %.3g x range > %.0e", what, rel, runs[r].tol);
        lk_model_free(model);
    }
    { /* F16 weights through the decode path, token by token */
        convert(&m, LK_DTYPE_F16);
        lk_model *model;
        lk_error err;
        CHECK_OK(lk_model_from_tensors(&m.hp, m.t, m.n, NULL, &model, &err), &err);
        if (model) {
            double rel = compare_decode(model, &g);
            printf("%-36s max|diff| = %.2e x range\n", "  (f16 weights, decode)", rel);
            CHECK_MSG(rel <= 2e-2, "%s f16 decode: max|diff| %.3g x range > 2e-2", name, rel);
            lk_model_free(model);
        }
    }
    free_model(&m);
    free_golden(&g);
}

/* The same weights written to a GGUF file (F32 and F16) and read back
 * through the GGUF reader (mmap'd, shapes reversed from ne[]) give the same
 * logits. Hyper-parameters still come from the config: mapping GGUF
 * metadata is the model-file layer's job, tested there. */
static void test_gguf_round_trip(const char *name) {
    golden g;
    if (!load_golden(name, &g)) {
        free_golden(&g);
        return;
    }
    static mem_model m;
    build(&m, cJSON_GetObjectItemCaseSensitive(g.doc, "config"), (int)num(g.doc, "seed", 0));
    lk_dtype types[2] = {LK_DTYPE_F32, LK_DTYPE_F16};
    for (int ti = 0; ti < 2; ti++) {
        convert(&m, types[ti]);
        char path[4200];
        snprintf(path, sizeof path, "%s/%s-%s.gguf", lk_test_tmpdir(), name, lk_dtype_name(types[ti]));
        lk_gguf_writer *gw = lk_gguf_writer_new(3, 0);
        lk_error err;
        CHECK_OK(lk_gguf_writer_set_str(gw, "general.architecture", m.hp.arch), &err);
        for (size_t i = 0; i < m.n; i++) {
            const lk_tensor_info *t = &m.t[i];
            int64_t ne[4] = {1, 1, 1, 1};
            for (int32_t dd = 0; dd < t->n_dims; dd++) ne[dd] = t->shape[t->n_dims - 1 - dd];
            CHECK_OK(lk_gguf_writer_add_tensor(gw, t->name, t->dtype, (uint32_t)t->n_dims, ne,
                                               t->data, t->nbytes, &err),
                     &err);
        }
        CHECK_OK(lk_gguf_writer_write(gw, path, &err), &err);
        lk_gguf_writer_free(gw);
        lk_gguf *gf = NULL;
        CHECK_OK(lk_gguf_open(path, &gf, &err), &err);
        if (!gf) continue;
        static lk_tensor_info table[MAX_T];
        size_t n = lk_gguf_tensor_count(gf);
        CHECK_EQ_INT(n, m.n);
        for (size_t i = 0; i < n && i < MAX_T; i++) {
            const lk_gguf_tensor *gt = lk_gguf_tensor_at(gf, i);
            lk_tensor_info *t = &table[i];
            memset(t, 0, sizeof *t);
            t->name = gt->name;
            t->dtype = gt->type;
            t->n_dims = (int32_t)gt->n_dims;
            for (uint32_t dd = 0; dd < gt->n_dims; dd++) t->shape[dd] = gt->ne[gt->n_dims - 1 - dd];
            t->data = gt->data;
            t->nbytes = gt->nbytes;
        }
        lk_model *model = NULL;
        CHECK_OK(lk_model_from_tensors(&m.hp, table, n, NULL, &model, &err), &err);
        if (model) {
            char what[96];
            snprintf(what, sizeof what, "%s via GGUF (weights %s, kv f32)", name,
                     lk_dtype_name(types[ti]));
            double rel = compare_prompt(model, LK_DTYPE_F32, &g, types[ti] == LK_DTYPE_F32, what);
            double tol = types[ti] == LK_DTYPE_F32 ? 1e-4 : 2e-2;
            CHECK_MSG(rel <= tol, "%s: max|diff| %.3g x range > %.0e", what, rel, tol);
            lk_model_free(model);
        }
        lk_gguf_close(gf);
        remove(path);
    }
    free_model(&m);
    free_golden(&g);
}

/* The same weights written to a safetensors file (F32 and BF16, internal
 * names) and read back through the safetensors reader give the same logits;
 * its table is already row-major, so it feeds the model as it is. (HF
 * directories, with HF names and config.json, go through the model-file
 * layer and are tested there.) */
static void test_safetensors_round_trip(const char *name) {
    golden g;
    if (!load_golden(name, &g)) {
        free_golden(&g);
        return;
    }
    static mem_model m;
    build(&m, cJSON_GetObjectItemCaseSensitive(g.doc, "config"), (int)num(g.doc, "seed", 0));
    lk_dtype types[2] = {LK_DTYPE_F32, LK_DTYPE_BF16};
    for (int ti = 0; ti < 2; ti++) {
        convert(&m, types[ti]);
        char path[4200];
        snprintf(path, sizeof path, "%s/%s-%s.safetensors", lk_test_tmpdir(), name,
                 lk_dtype_name(types[ti]));
        lk_error err;
        lk_safetensors_writer *sw = lk_safetensors_writer_new();
        for (size_t i = 0; i < m.n; i++) {
            const lk_tensor_info *t = &m.t[i];
            CHECK_OK(lk_safetensors_writer_add_tensor(sw, t->name, t->dtype, t->n_dims, t->shape,
                                                      t->data, t->nbytes, &err),
                     &err);
        }
        CHECK_OK(lk_safetensors_writer_write(sw, path, &err), &err);
        lk_safetensors_writer_free(sw);
        lk_safetensors *st = NULL;
        CHECK_OK(lk_safetensors_open(path, &st, &err), &err);
        if (!st) continue;
        static lk_tensor_info table[MAX_T];
        size_t n = lk_safetensors_tensor_count(st);
        CHECK_EQ_INT(n, m.n);
        for (size_t i = 0; i < n && i < MAX_T; i++) table[i] = lk_safetensors_tensor_at(st, i)->info;
        lk_model *model = NULL;
        CHECK_OK(lk_model_from_tensors(&m.hp, table, n, NULL, &model, &err), &err);
        if (model) {
            char what[96];
            snprintf(what, sizeof what, "%s via safetensors (weights %s)", name,
                     lk_dtype_name(types[ti]));
            double rel = compare_prompt(model, LK_DTYPE_F32, &g, types[ti] == LK_DTYPE_F32, what);
            double tol = types[ti] == LK_DTYPE_F32 ? 1e-4 : 2e-2;
            CHECK_MSG(rel <= tol, "%s: max|diff| %.3g x range > %.0e", what, rel, tol);
            lk_model_free(model);
        }
        lk_safetensors_close(st);
        remove(path);
    }
    free_model(&m);
    free_golden(&g);
}

/* llama.cpp stores Llama 3.1 rope scaling not as metadata but as a
 * rope_freqs.weight tensor of per-pair divisors (plain / scaled frequency).
 * The llama golden (llama3 scaling) given that way instead of by its rule
 * must give the same logits. */
static void test_rope_freqs(void) {
    golden g;
    if (!load_golden("llama", &g)) {
        free_golden(&g);
        return;
    }
    static mem_model m;
    build(&m, cJSON_GetObjectItemCaseSensitive(g.doc, "config"), (int)num(g.doc, "seed", 0));
    CHECK(m.hp.rope_scaling == LK_ROPE_SCALING_LLAMA3);
    lk_rope scaled, plain;
    lk_error err;
    lk_hparams hp = m.hp;
    CHECK_OK(lk_rope_init(&scaled, &hp, hp.head_dim, &err), &err);
    hp.rope_scaling = LK_ROPE_SCALING_NONE;
    CHECK_OK(lk_rope_init(&plain, &hp, hp.head_dim, &err), &err);
    static float freqs[LK_ROPE_MAX_PAIRS];
    int32_t half = plain.n_rot / 2;
    for (int32_t i = 0; i < half; i++) freqs[i] = plain.inv_freq[i] / scaled.inv_freq[i];
    lk_tensor_info *t = &m.t[m.n];
    memset(t, 0, sizeof *t);
    t->name = "rope_freqs.weight";
    t->dtype = LK_DTYPE_F32;
    t->n_dims = 1;
    t->shape[0] = half;
    t->data = freqs;
    t->nbytes = (uint64_t)half * 4;
    lk_model *model = NULL;
    /* With the rule left on as well, the tensor replaces it (no double scaling). */
    for (int pass = 0; pass < 2; pass++) {
        lk_hparams use = pass ? m.hp : hp;
        CHECK_OK(lk_model_from_tensors(&use, m.t, m.n + 1, NULL, &model, &err), &err);
        if (!model) continue;
        double rel = compare_prompt(model, LK_DTYPE_F32, &g, true, "llama via rope_freqs");
        CHECK_MSG(rel <= 1e-4, "llama via rope_freqs.weight: max|diff| %.3g x range", rel);
        lk_model_free(model);
    }
    /* A non-positive divisor is refused. */
    freqs[1] = 0.0f;
    CHECK(lk_model_from_tensors(&hp, m.t, m.n + 1, NULL, &model, &err) == LK_ERR_FORMAT);
    CHECK(strstr(err.msg, "rope_freqs.weight") != NULL);
    free_model(&m);
    free_golden(&g);
}

/* `llmkit convert` of the HF folder: the GGUF (F32) must give the HF
 * folder's logits within 1e-5 of their range at every prompt position,
 * which holds only if the q/k permutation, the metadata keys and the
 * tensor layouts are all right; and the reference's greedy tokens. */
/* The goldens `llmkit convert` writes: all but gemma2, whose
 * query_pre_attn_scalar (24, head_dim 16) GGUF cannot hold (refused, checked
 * below). llama (llama3 rope scaling, as a rope_freqs.weight tensor), mistral and
 * llama_bias cover the q/k permutation of the llama architecture. */
static bool convert_supported(const char *name) {
    static const char *const ok[] = {"llama", "mistral", "qwen2", "qwen3", "llama_bias",
                                     "phi3", "gpt2", "gemma"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(ok[i], name) == 0) return true;
    return false;
}

static void check_convert(const char *name, const char *dir, lk_model *hf_model, const golden *g) {
    char out[4300];
    snprintf(out, sizeof out, "%s.gguf", dir);
    lk_quantize_params qp = {.ftype = LK_FTYPE_ALL_F32, .n_threads = 1};
    lk_error err;
    CHECK_OK(lk_quantize_model(dir, out, &qp, NULL, &err), &err);
    lk_model *gm = NULL;
    CHECK_OK(lk_model_load(out, NULL, &gm, &err), &err);
    if (!gm) return;
    const int32_t V = g->vocab;
    float *a = malloc((size_t)N_PROMPT * V * sizeof *a), *b = malloc((size_t)N_PROMPT * V * sizeof *b);
    lk_model *ms[2] = {hf_model, gm};
    float *ls[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        lk_context_params cp;
        lk_context_params_default(&cp);
        cp.n_ctx = N_PROMPT;
        cp.kv_type = LK_DTYPE_F32;
        lk_context *c = NULL;
        CHECK_OK(lk_context_new(ms[k], &cp, &c, &err), &err);
        if (c) CHECK_OK(lk_eval(c, g->prompt, N_PROMPT, LK_LOGITS_ALL, ls[k], &err), &err);
        lk_context_free(c);
    }
    double worst = 0;
    for (int t = 0; t < N_PROMPT; t++) {
        float lo = a[(size_t)t * V], hi = lo;
        double maxd = 0;
        for (int j = 0; j < V; j++) {
            const float x = a[(size_t)t * V + j], y = b[(size_t)t * V + j];
            if (x < lo) lo = x;
            if (x > hi) hi = x;
            const double d = fabs((double)x - y);
            if (d > maxd || isnan(d)) maxd = isnan(d) ? INFINITY : d;
        }
        if (maxd / (hi - lo) > worst) worst = maxd / (hi - lo);
    }
    char what[96];
    snprintf(what, sizeof what, "%s via llmkit convert (f32)", name);
    printf("%-36s max|diff| = %.2e x range (against the HF folder)\n", what, worst);
    CHECK_MSG(worst <= 1e-5, "%s: GGUF logits differ from the HF folder's by %.3g x range", what, worst);
    const double rel = compare_prompt(gm, LK_DTYPE_F32, g, true, what);
    CHECK_MSG(rel <= 1e-4, "%s: max|diff| %.3g x range against the reference", what, rel);
    free(a);
    free(b);
    lk_model_free(gm);
}

/* The same weights written as an HF model directory (config.json from the
 * golden, model.safetensors under HF names, gpt2's Conv1D weights stored
 * [in, out]) and opened with lk_model_load give the reference logits: the
 * whole path of config mapping, name mapping and layout through the
 * model-file layer. */
static void test_hf_dir(const char *name) {
    golden g;
    if (!load_golden(name, &g)) {
        free_golden(&g);
        return;
    }
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(g.doc, "config");
    static mem_model m;
    build(&m, cfg, (int)num(g.doc, "seed", 0));
    lk_dtype types[2] = {LK_DTYPE_F32, LK_DTYPE_BF16};
    for (int ti = 0; ti < 2; ti++) {
        convert(&m, types[ti]);
        char dir[4200], path[4300];
        snprintf(dir, sizeof dir, "%s/%s-hf-%s", lk_test_tmpdir(), name, lk_dtype_name(types[ti]));
        mkdir(dir, 0755);
        snprintf(path, sizeof path, "%s/config.json", dir);
        char *json = cJSON_Print(cfg);
        FILE *f = fopen(path, "w");
        fputs(json, f);
        fclose(f);
        free(json);
        lk_error err;
        lk_safetensors_writer *sw = lk_safetensors_writer_new();
        void *owned[MAX_T] = {0};
        for (size_t i = 0; i < m.n; i++) {
            const lk_tensor_info *t = &m.t[i];
            lk_tensor_name hf;
            CHECK_OK(lk_tensor_name_to_hf(m.hp.arch, t->name, &hf, &err), &err);
            CHECK_MSG(hf.kind == LK_TNAME_MAPPED, "%s: %s has no HF name", name, t->name);
            int64_t shape[2] = {t->shape[0], t->shape[1]};
            const void *data = t->data;
            if (hf.transform & LK_TNAME_TRANSPOSE) { /* Conv1D: [in, out] */
                size_t es = t->dtype == LK_DTYPE_F32 ? 4 : 2, R = (size_t)t->shape[0], C = (size_t)t->shape[1];
                unsigned char *tr = malloc(R * C * es);
                for (size_t r = 0; r < R; r++)
                    for (size_t c = 0; c < C; c++)
                        memcpy(tr + (c * R + r) * es, (const unsigned char *)t->data + (r * C + c) * es, es);
                owned[i] = tr;
                data = tr;
                shape[0] = t->shape[1];
                shape[1] = t->shape[0];
            }
            CHECK_OK(lk_safetensors_writer_add_tensor(sw, hf.name, t->dtype, t->n_dims, shape, data,
                                                      t->nbytes, &err), &err);
        }
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        CHECK_OK(lk_safetensors_writer_write(sw, path, &err), &err);
        lk_safetensors_writer_free(sw);
        for (size_t i = 0; i < m.n; i++) free(owned[i]);
        lk_model *model = NULL;
        CHECK_OK(lk_model_load(dir, NULL, &model, &err), &err);
        if (model) {
            char what[96];
            snprintf(what, sizeof what, "%s via HF dir (weights %s, kv f32)", name,
                     lk_dtype_name(types[ti]));
            double rel = compare_prompt(model, LK_DTYPE_F32, &g, types[ti] == LK_DTYPE_F32, what);
            double tol = types[ti] == LK_DTYPE_F32 ? 1e-4 : 2e-2;
            printf("%-36s max|diff| = %.2e x range\n", what, rel);
            CHECK_MSG(rel <= tol, "%s: max|diff| %.3g x range > %.0e", what, rel, tol);
            if (types[ti] == LK_DTYPE_F32 && convert_supported(name))
                check_convert(name, dir, model, &g);
            if (types[ti] == LK_DTYPE_F32 && strcmp(name, "gemma2") == 0) {
                char out[4300];
                snprintf(out, sizeof out, "%s.gguf", dir);
                lk_quantize_params qp = {.ftype = LK_FTYPE_ALL_F32, .n_threads = 1};
                CHECK_EQ_INT(lk_quantize_model(dir, out, &qp, NULL, &err), LK_ERR_UNSUPPORTED);
                CHECK(strstr(err.msg, "query_pre_attn_scalar") != NULL);
                CHECK(access(out, F_OK) != 0);
            }
            lk_model_free(model);
        }
    }
    free_model(&m);
    free_golden(&g);
}

/* Unsupported things fail with messages that name them. */
static void test_errors(void) {
    golden g;
    if (!load_golden("llama", &g)) return;
    static mem_model m;
    build(&m, cJSON_GetObjectItemCaseSensitive(g.doc, "config"), 1);
    lk_model *model = NULL;
    lk_error err;
    snprintf(m.hp.arch, sizeof m.hp.arch, "mamba");
    CHECK(lk_model_from_tensors(&m.hp, m.t, m.n, NULL, &model, &err) == LK_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "mamba") && strstr(err.msg, "qwen2"));
    snprintf(m.hp.arch, sizeof m.hp.arch, "llama");
    m.hp.n_ff += 1; /* shapes no longer match */
    CHECK(lk_model_from_tensors(&m.hp, m.t, m.n, NULL, &model, &err) == LK_ERR_FORMAT);
    CHECK(strstr(err.msg, "blk.0.ffn_gate.weight") != NULL);
    m.hp.n_ff -= 1;
    m.t[1].name = "renamed"; /* a tensor goes missing */
    CHECK(lk_model_from_tensors(&m.hp, m.t, m.n, NULL, &model, &err) == LK_ERR_NOT_FOUND);
    CHECK(strstr(err.msg, "blk.0.attn_norm.weight") != NULL);
    m.t[1].name = m.names[1];
    m.t[2].dtype = LK_DTYPE_I32;
    CHECK(lk_model_from_tensors(&m.hp, m.t, m.n, NULL, &model, &err) == LK_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "i32") != NULL);
    CHECK(model == NULL);
    free_model(&m);
    free_golden(&g);
}

/* Runs this test again on the portable scalar kernels, so they too are held
 * to the reference (the first run used the best SIMD kernels). */
static void rerun_scalar(void) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("LLMKIT_CPU_MAX", "scalar", 1);
        execl("/proc/self/exe", "test_forward_ref", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "run with LLMKIT_CPU_MAX=scalar failed");
}

int main(void) {
    const char *names[] = {"llama", "mistral", "qwen2", "qwen3",     "gemma",
                           "gemma2", "phi3",   "gpt2",  "llama_bias"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) test_model(names[i]);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) test_gguf_round_trip(names[i]);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        test_safetensors_round_trip(names[i]);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) test_hf_dir(names[i]);
    test_rope_freqs();
    test_errors();
    rmdir(lk_test_tmpdir());
    if (!getenv("LLMKIT_CPU_MAX")) rerun_scalar();
    return lk_test_finish("test_forward_ref");
}
