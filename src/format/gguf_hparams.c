/* GGUF metadata -> lk_hparams.
 *
 * llama.cpp stores hyper-parameters as "<arch>.<name>" keys (the arch is
 * general.architecture). Which are required and what an absent optional key
 * means follow llama.cpp's loader (llama_model::load_hparams), so a file that
 * llama.cpp loads gives the numbers llama.cpp uses. The per-architecture
 * facts that are not in the file (rope layout, activation, Gemma's embedding
 * scale) come from the table below. */
#include "format/gguf_hparams.h"

#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "format/hparams_check.h"

typedef struct {
    const char *arch;
    lk_norm_kind norm;
    lk_activation act;
    /* llama.cpp's llama_model_rope_type: NORM (pairs) -> INTERLEAVED,
     * NEOX -> HALF, NONE -> NONE (bert is NEOX there but has no rope). */
    lk_rope_layout rope;
} gguf_arch;

static const gguf_arch GGUF_ARCHS[] = {
    {"llama", LK_NORM_RMS, LK_ACT_SILU, LK_ROPE_INTERLEAVED},
    {"qwen2", LK_NORM_RMS, LK_ACT_SILU, LK_ROPE_HALF},
    {"qwen3", LK_NORM_RMS, LK_ACT_SILU, LK_ROPE_HALF},
    {"gemma", LK_NORM_RMS, LK_ACT_GELU_TANH, LK_ROPE_HALF},
    {"gemma2", LK_NORM_RMS, LK_ACT_GELU_TANH, LK_ROPE_HALF},
    {"phi3", LK_NORM_RMS, LK_ACT_SILU, LK_ROPE_HALF},
    {"gpt2", LK_NORM_LAYER, LK_ACT_GELU_TANH, LK_ROPE_NONE},
    /* BERT's own activation is the exact GELU (llama.cpp approximates it). */
    {"bert", LK_NORM_LAYER, LK_ACT_GELU, LK_ROPE_NONE},
};

const char *lk_gguf_supported_archs(void) {
    return "llama, qwen2, qwen3, gemma, gemma2, phi3, gpt2, bert";
}

/* ---------------------------------------------------------------- typed getters */

typedef struct {
    const lk_gguf *g;
    const char *file;
    const char *arch;
    lk_error *err;
} meta;

/* "<arch>.<suffix>" in buf. */
static const char *akey(const meta *m, const char *suffix, char *buf, size_t cap) {
    snprintf(buf, cap, "%s.%s", m->arch, suffix);
    return buf;
}

static lk_status missing(const meta *m, const char *key) {
    return lk_error_set(m->err, LK_ERR_FORMAT,
                        "%s: metadata key \"%s\" is missing (was the file written by a "
                        "converter for this architecture?)",
                        m->file, key);
}

static lk_status wrong_type(const meta *m, const char *key, const char *want,
                            const lk_gguf_value *v) {
    const char *got = lk_gguf_type_name(v->type);
    return lk_error_set(m->err, LK_ERR_FORMAT, "%s: metadata key \"%s\" must be %s, not %s",
                        m->file, key, want, got ? got : "an unknown type");
}

/* A size or count: an integer that fits int32, or (per-layer form) an array
 * of such integers that are all equal. *found is false when absent; then
 * *out is untouched. */
static lk_status get_count(const meta *m, const char *key, bool *found, int32_t *out) {
    const lk_gguf_value *v = lk_gguf_get(m->g, key);
    *found = v != NULL;
    if (!v) return LK_OK;
    int64_t x = 0;
    if (v->type == LK_GGUF_ARRAY) {
        const lk_gguf_type et = v->arr.elem_type;
        const size_t width = et == LK_GGUF_INT32 || et == LK_GGUF_UINT32 ? 4 : 0;
        if (!width || v->arr.n == 0 || !v->arr.data)
            return wrong_type(m, key, "an integer or a non-empty array of 32-bit integers", v);
        const unsigned char *p = v->arr.data;
        for (uint64_t i = 0; i < v->arr.n; i++) {
            /* GGUF is little-endian, as is every host llmkit targets. */
            uint32_t u;
            memcpy(&u, p + i * width, sizeof u);
            int64_t e = et == LK_GGUF_INT32 ? (int64_t)(int32_t)u : (int64_t)u;
            if (i == 0) x = e;
            if (e != x)
                return lk_error_set(m->err, LK_ERR_UNSUPPORTED,
                                    "%s: \"%s\" differs between layers, which llmkit does not "
                                    "support",
                                    m->file, key);
        }
    } else if (!lk_gguf_get_i64(m->g, key, &x)) {
        return wrong_type(m, key, "an integer", v);
    }
    if (x < 0 || x > INT32_MAX)
        return lk_error_set(m->err, LK_ERR_RANGE, "%s: \"%s\" = %lld is out of range", m->file,
                            key, (long long)x);
    *out = (int32_t)x;
    return LK_OK;
}

static lk_status req_count(const meta *m, const char *key, int32_t *out) {
    bool found;
    lk_status st = get_count(m, key, &found, out);
    if (!st && !found) return missing(m, key);
    return st;
}

static lk_status get_float(const meta *m, const char *key, bool required, float *out) {
    const lk_gguf_value *v = lk_gguf_get(m->g, key);
    if (!v) return required ? missing(m, key) : LK_OK;
    if (!lk_gguf_get_f32(m->g, key, out)) return wrong_type(m, key, "a float", v);
    return LK_OK;
}

/* A special-token id. As in llama.cpp, a value that is not a token of the
 * vocabulary (converters write 0xFFFFFFFF for "none") is not an error: the
 * token is simply absent (*found false, *out untouched). */
static lk_status get_token(const meta *m, const char *key, int32_t n_vocab, bool *found,
                           int32_t *out) {
    const lk_gguf_value *v = lk_gguf_get(m->g, key);
    *found = false;
    if (!v) return LK_OK;
    int64_t x;
    if (!lk_gguf_get_i64(m->g, key, &x)) return wrong_type(m, key, "an integer", v);
    if (x < 0 || x >= n_vocab) return LK_OK;
    *found = true;
    *out = (int32_t)x;
    return LK_OK;
}

/* A string value compared as text. */
static lk_status get_string(const meta *m, const char *key, char *buf, size_t cap, bool *found) {
    const lk_gguf_value *v = lk_gguf_get(m->g, key);
    *found = v != NULL;
    if (!v) return LK_OK;
    lk_gguf_str s;
    if (!lk_gguf_get_str(m->g, key, &s)) return wrong_type(m, key, "a string", v);
    if (s.len >= cap || memchr(s.ptr, '\0', (size_t)s.len))
        return lk_error_set(m->err, LK_ERR_UNSUPPORTED, "%s: \"%s\" = \"%.*s\" is not known",
                            m->file, key, (int)(s.len < 64 ? s.len : 64), s.ptr);
    memcpy(buf, s.ptr, (size_t)s.len);
    buf[s.len] = '\0';
    return LK_OK;
}

/* ---------------------------------------------------------------- pieces */

static lk_status read_rope(const meta *m, lk_hparams *hp) {
    char k[128], type[32] = "";
    lk_status st;
    bool found;
    hp->rope_theta = 10000.0f;
    if ((st = get_float(m, akey(m, "rope.freq_base", k, sizeof k), false, &hp->rope_theta)))
        return st;
    hp->n_rot = hp->head_dim;
    if ((st = get_count(m, akey(m, "rope.dimension_count", k, sizeof k), &found, &hp->n_rot)))
        return st;

    /* rope.scaling.factor, else the older rope.scale_linear; 0 means none. */
    float factor = 0.0f;
    if ((st = get_float(m, akey(m, "rope.scaling.factor", k, sizeof k), false, &factor)))
        return st;
    if (factor == 0.0f &&
        (st = get_float(m, akey(m, "rope.scale_linear", k, sizeof k), false, &factor)))
        return st;
    if ((st = get_string(m, akey(m, "rope.scaling.type", k, sizeof k), type, sizeof type,
                         &found)))
        return st;
    if (!found) strcpy(type, "linear"); /* llama.cpp's default when a factor is given */
    if (strcmp(type, "none") == 0 || factor == 0.0f || factor == 1.0f) {
        hp->rope_scaling = LK_ROPE_SCALING_NONE;
        hp->rope_factor = 1.0f;
        return LK_OK;
    }
    if (strcmp(type, "linear") != 0)
        return lk_error_set(m->err, LK_ERR_UNSUPPORTED,
                            "%s: rope scaling \"%s\" is not supported (llmkit handles linear; "
                            "llama3 scaling comes as the rope_freqs.weight tensor)",
                            m->file, type);
    hp->rope_scaling = LK_ROPE_SCALING_LINEAR;
    hp->rope_factor = factor;
    return LK_OK;
}

/* Phi-3 "128k" models carry LongRoPE as two factor tensors rather than as a
 * scaling type: refuse them instead of running them without their scaling. */
static lk_status refuse_longrope_tensors(const meta *m) {
    if (lk_gguf_find_tensor(m->g, "rope_factors_long.weight") ||
        lk_gguf_find_tensor(m->g, "rope_factors_short.weight"))
        return lk_error_set(m->err, LK_ERR_UNSUPPORTED,
                            "%s: LongRoPE (rope_factors_long/short tensors) is not supported",
                            m->file);
    return LK_OK;
}

/* bos, eos, and the end-of-turn / end-of-message ids as extra stop tokens.
 * Needs hp->n_vocab. */
static lk_status read_tokens(const meta *m, lk_hparams *hp) {
    lk_status st;
    bool found;
    if ((st = get_token(m, "tokenizer.ggml.bos_token_id", hp->n_vocab, &found, &hp->bos_id)))
        return st;
    if ((st = get_token(m, "tokenizer.ggml.padding_token_id", hp->n_vocab, &found,
                        &hp->pad_id)))
        return st;
    static const char *const stops[] = {"tokenizer.ggml.eos_token_id",
                                        "tokenizer.ggml.eot_token_id",
                                        "tokenizer.ggml.eom_token_id"};
    hp->n_eos = 0;
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++) {
        int32_t id = -1;
        if ((st = get_token(m, stops[i], hp->n_vocab, &found, &id))) return st;
        bool dup = false;
        for (int32_t j = 0; j < hp->n_eos; j++) dup = dup || hp->eos_ids[j] == id;
        if (found && !dup && hp->n_eos < LK_MAX_EOS) hp->eos_ids[hp->n_eos++] = id;
    }
    return LK_OK;
}

/* Vocabulary size: the token list, which must agree with token_embd's rows
 * (llama.cpp refuses a mismatch too); token_embd or <arch>.vocab_size when
 * the file has no token list. */
static lk_status read_vocab(const meta *m, lk_hparams *hp) {
    char k[128];
    lk_status st;
    const lk_gguf_value *items;
    uint64_t n_tokens = 0;
    bool have_tokens = lk_gguf_get_str_array(m->g, "tokenizer.ggml.tokens", &items, &n_tokens);
    if (!have_tokens && lk_gguf_get(m->g, "tokenizer.ggml.tokens"))
        return wrong_type(m, "tokenizer.ggml.tokens", "an array of strings",
                          lk_gguf_get(m->g, "tokenizer.ggml.tokens"));
    const lk_gguf_tensor *embd = lk_gguf_find_tensor(m->g, "token_embd.weight");
    int64_t embd_rows = embd && embd->n_dims == 2 ? embd->ne[1] : -1;
    if (have_tokens) {
        if (n_tokens > INT32_MAX)
            return lk_error_set(m->err, LK_ERR_RANGE, "%s: %llu tokens is too many", m->file,
                                (unsigned long long)n_tokens);
        if (embd_rows >= 0 && (uint64_t)embd_rows != n_tokens)
            return lk_error_set(m->err, LK_ERR_FORMAT,
                                "%s: token_embd.weight has %lld rows but the tokenizer has %llu "
                                "tokens",
                                m->file, (long long)embd_rows, (unsigned long long)n_tokens);
        hp->n_vocab = (int32_t)n_tokens;
        return LK_OK;
    }
    bool found;
    if ((st = get_count(m, akey(m, "vocab_size", k, sizeof k), &found, &hp->n_vocab))) return st;
    if (found) return LK_OK;
    if (embd_rows < 0 || embd_rows > INT32_MAX)
        return lk_error_set(m->err, LK_ERR_FORMAT,
                            "%s: no tokenizer.ggml.tokens, %s.vocab_size or 2-D "
                            "token_embd.weight to take the vocabulary size from",
                            m->file, m->arch);
    hp->n_vocab = (int32_t)embd_rows;
    return LK_OK;
}

/* ---------------------------------------------------------------- entry */

lk_status lk_gguf_hparams(const lk_gguf *g, const char *name, lk_hparams *out, lk_error *err) {
    if (!g || !out) return lk_error_set(err, LK_ERR_ARG, "lk_gguf_hparams: missing argument");
    if (!name) name = "(gguf)";
    char arch[32], k[128];
    bool found;
    meta m = {g, name, arch, err};
    lk_status st = get_string(&m, "general.architecture", arch, sizeof arch, &found);
    if (st) return st;
    if (!found) return missing(&m, "general.architecture");
    const gguf_arch *a = NULL;
    for (size_t i = 0; i < sizeof GGUF_ARCHS / sizeof GGUF_ARCHS[0]; i++)
        if (strcmp(GGUF_ARCHS[i].arch, arch) == 0) a = &GGUF_ARCHS[i];
    if (!a)
        return lk_error_set(err, LK_ERR_UNSUPPORTED,
                            "%s: architecture \"%s\" is not supported (supported: %s)", name,
                            arch, lk_gguf_supported_archs());

    lk_hparams hp;
    lk_hparams_init(&hp);
    snprintf(hp.arch, sizeof hp.arch, "%s", arch);
    hp.norm = a->norm;
    hp.act = a->act;
    hp.rope_layout = a->rope;

    if ((st = req_count(&m, akey(&m, "context_length", k, sizeof k), &hp.n_ctx_train))) return st;
    if ((st = req_count(&m, akey(&m, "embedding_length", k, sizeof k), &hp.n_embd))) return st;
    if ((st = req_count(&m, akey(&m, "block_count", k, sizeof k), &hp.n_layer))) return st;
    if ((st = req_count(&m, akey(&m, "feed_forward_length", k, sizeof k), &hp.n_ff))) return st;
    if ((st = req_count(&m, akey(&m, "attention.head_count", k, sizeof k), &hp.n_head))) return st;
    hp.n_head_kv = hp.n_head;
    if ((st = get_count(&m, akey(&m, "attention.head_count_kv", k, sizeof k), &found,
                        &hp.n_head_kv)))
        return st;
    if (hp.n_head < 1)
        return lk_error_set(err, LK_ERR_RANGE, "%s: %s.attention.head_count is 0", name, arch);
    hp.head_dim = hp.n_embd / hp.n_head;
    if ((st = get_count(&m, akey(&m, "attention.key_length", k, sizeof k), &found, &hp.head_dim)))
        return st;
    if (!found && hp.n_embd % hp.n_head != 0)
        return lk_error_set(err, LK_ERR_RANGE,
                            "%s: embedding length %d is not a multiple of %d heads and "
                            "%s.attention.key_length is absent",
                            name, (int)hp.n_embd, (int)hp.n_head, arch);
    int32_t value_length = hp.head_dim;
    if ((st = get_count(&m, akey(&m, "attention.value_length", k, sizeof k), &found,
                        &value_length)))
        return st;
    if (value_length != hp.head_dim)
        return lk_error_set(err, LK_ERR_UNSUPPORTED,
                            "%s: key length %d differs from value length %d", name,
                            (int)hp.head_dim, (int)value_length);

    const char *eps_key = a->norm == LK_NORM_RMS ? "attention.layer_norm_rms_epsilon"
                                                  : "attention.layer_norm_epsilon";
    if ((st = get_float(&m, akey(&m, eps_key, k, sizeof k), true, &hp.norm_eps))) return st;

    if (a->rope != LK_ROPE_NONE &&
        ((st = read_rope(&m, &hp)) || (st = refuse_longrope_tensors(&m))))
        return st;

    const bool is_gemma = strncmp(arch, "gemma", 5) == 0;
    hp.embd_scale = is_gemma;
    hp.norm_plus_one = false; /* the converter stored 1 + w */
    hp.qk_norm = strcmp(arch, "qwen3") == 0;
    hp.attn_qkv_bias = strcmp(arch, "qwen2") == 0 || a->rope == LK_ROPE_NONE ||
                       lk_gguf_find_tensor(g, "blk.0.attn_q.bias") != NULL ||
                       lk_gguf_find_tensor(g, "blk.0.attn_qkv.bias") != NULL;
    hp.tied_embeddings = lk_gguf_find_tensor(g, "output.weight") == NULL;

    if (strcmp(arch, "gemma2") == 0) {
        /* llama.cpp's defaults for Gemma 2 when the keys are absent. */
        hp.attn_softcap = 50.0f;
        hp.final_softcap = 30.0f;
        hp.sliding_window = 4096;
        if ((st = get_float(&m, akey(&m, "attn_logit_softcapping", k, sizeof k), false,
                            &hp.attn_softcap)) ||
            (st = get_float(&m, akey(&m, "final_logit_softcapping", k, sizeof k), false,
                            &hp.final_softcap)))
            return st;
        /* Not stored: llama.cpp scales queries by 1/sqrt(n_embd / n_head) for
         * the 27B model (46 layers; its query_pre_attn_scalar is 144) and by
         * 1/sqrt(head_dim) otherwise. */
        hp.query_pre_attn_scalar =
            hp.n_layer == 46 ? (float)(hp.n_embd / hp.n_head) : (float)hp.head_dim;
    }
    if ((st = get_count(&m, akey(&m, "attention.sliding_window", k, sizeof k), &found,
                        &hp.sliding_window)))
        return st;

    if ((st = read_vocab(&m, &hp))) return st;
    if ((st = read_tokens(&m, &hp))) return st;
    if ((st = lk_hparams_check(&hp, name, err))) return st;
    *out = hp;
    return LK_OK;
}
