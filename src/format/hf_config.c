/* HF config.json -> lk_hparams.
 *
 * Design: one table row per model_type holds what differs between the
 * transformers config classes as data (key names, class defaults); the few
 * rules that are behaviour, not data (Gemma's activation key, Qwen2's
 * per-layer sliding window, rope_scaling), are spelled out in code below.
 * Every value read from the JSON goes through one of the typed readers, so a
 * wrong type or a missing required key always produces a message naming the
 * key and the file. */
#include "format/hf_config.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/mmap.h"
#include "format/hparams_check.h"

/* ---------------------------------------------------------------- classes */

#define NO_TOKEN (-1)
#define DERIVED 0 /* "hidden_size / num_attention_heads" or "num_attention_heads" */

typedef struct {
    const char *model_type;
    /* Key names: gpt2 has its own, the rest use the llama-style ones. */
    const char *k_hidden, *k_layers, *k_heads, *k_ctx, *k_eps, *k_act;
    /* Aliases transformers accepts through attribute_map (gpt2), or NULL. */
    const char *a_hidden, *a_layers, *a_heads, *a_ctx;
    /* Class defaults used when a key is absent. */
    int32_t ctx;
    float eps;
    int32_t kv_heads; /* DERIVED: num_attention_heads */
    int32_t head_dim; /* DERIVED: hidden_size / num_attention_heads */
    const char *act;
    bool tie;
    int32_t bos, eos, pad;
    lk_norm_kind norm;
    lk_rope_layout rope; /* HF weights keep q/k in rotate-half order */
} hf_class;

#define LLAMA_KEYS "hidden_size", "num_hidden_layers", "num_attention_heads", \
                   "max_position_embeddings", "rms_norm_eps", "hidden_act", NULL, NULL, NULL, NULL

static const hf_class HF_CLASSES[] = {
    /* LlamaConfig */
    {"llama", LLAMA_KEYS, 2048, 1e-6f, DERIVED, DERIVED, "silu", false, 1, 2, NO_TOKEN,
     LK_NORM_RMS, LK_ROPE_HALF},
    /* MistralConfig: absent num_key_value_heads means 8, null means all heads */
    {"mistral", LLAMA_KEYS, 4096 * 32, 1e-6f, 8, DERIVED, "silu", false, 1, 2, NO_TOKEN,
     LK_NORM_RMS, LK_ROPE_HALF},
    /* Qwen2Config */
    {"qwen2", LLAMA_KEYS, 32768, 1e-6f, 32, DERIVED, "silu", false, NO_TOKEN, NO_TOKEN,
     NO_TOKEN, LK_NORM_RMS, LK_ROPE_HALF},
    /* Qwen3Config */
    {"qwen3", LLAMA_KEYS, 32768, 1e-6f, 32, 128, "silu", false, NO_TOKEN, NO_TOKEN, NO_TOKEN,
     LK_NORM_RMS, LK_ROPE_HALF},
    /* GemmaConfig (activation: see gemma_activation) */
    {"gemma", LLAMA_KEYS, 8192, 1e-6f, 16, 256, "gelu_pytorch_tanh", true, 2, 1, 0, LK_NORM_RMS,
     LK_ROPE_HALF},
    /* Gemma2Config */
    {"gemma2", LLAMA_KEYS, 8192, 1e-6f, 4, 256, "gelu_pytorch_tanh", true, 2, 1, 0, LK_NORM_RMS,
     LK_ROPE_HALF},
    /* Phi3Config */
    {"phi3", LLAMA_KEYS, 4096, 1e-5f, DERIVED, DERIVED, "silu", false, 1, 32000, 32000,
     LK_NORM_RMS, LK_ROPE_HALF},
    /* GPT2Config (tie_word_embeddings: PretrainedConfig's default, true) */
    {"gpt2", "n_embd", "n_layer", "n_head", "n_positions", "layer_norm_epsilon",
     "activation_function", "hidden_size", "num_hidden_layers", "num_attention_heads",
     "max_position_embeddings", 1024, 1e-5f, DERIVED, DERIVED, "gelu_new", true, 50256, 50256,
     NO_TOKEN, LK_NORM_LAYER, LK_ROPE_NONE},
    /* BertConfig */
    {"bert", "hidden_size", "num_hidden_layers", "num_attention_heads", "max_position_embeddings",
     "layer_norm_eps", "hidden_act", NULL, NULL, NULL, NULL, 512, 1e-12f, DERIVED, DERIVED,
     "gelu", true, NO_TOKEN, NO_TOKEN, 0, LK_NORM_LAYER, LK_ROPE_NONE},
};

#define N_CLASSES (sizeof HF_CLASSES / sizeof HF_CLASSES[0])

const char *lk_hf_supported_model_types(void) {
    return "llama, mistral, qwen2, qwen3, gemma, gemma2, phi3, gpt2, bert";
}

static bool is(const hf_class *c, const char *model_type) {
    return strcmp(c->model_type, model_type) == 0;
}

/* ---------------------------------------------------------------- typed JSON readers */

/* Where we are reading: the file name for messages. */
typedef struct {
    const char *file;
    lk_error *err;
} reader;

/* The last member named key, as Python's json module keeps the last of
 * duplicate keys. NULL when absent. */
static const cJSON *member(const cJSON *obj, const char *key) {
    const cJSON *found = NULL;
    for (const cJSON *it = obj ? obj->child : NULL; it; it = it->next)
        if (it->string && strcmp(it->string, key) == 0) found = it;
    return found;
}

/* key, or its alias when key is absent. *used names the one found. */
static const cJSON *member2(const cJSON *obj, const char *key, const char *alias,
                            const char **used) {
    const cJSON *it = member(obj, key);
    *used = key;
    if (!it && alias) {
        it = member(obj, alias);
        if (it) *used = alias;
    }
    return it;
}

static const char *json_kind(const cJSON *it) {
    if (cJSON_IsNull(it)) return "null";
    if (cJSON_IsBool(it)) return "a boolean";
    if (cJSON_IsNumber(it)) return "a number";
    if (cJSON_IsString(it)) return "a string";
    if (cJSON_IsArray(it)) return "an array";
    if (cJSON_IsObject(it)) return "an object";
    return "invalid";
}

static lk_status type_error(const reader *r, const char *key, const char *want,
                            const cJSON *it) {
    return lk_error_set(r->err, LK_ERR_FORMAT, "%s: \"%s\" must be %s, not %s", r->file, key,
                        want, json_kind(it));
}

static lk_status as_int(const reader *r, const char *key, const cJSON *it, int32_t *out) {
    if (!cJSON_IsNumber(it)) return type_error(r, key, "an integer", it);
    double v = it->valuedouble;
    if (!isfinite(v) || v != floor(v) || v < (double)INT32_MIN || v > (double)INT32_MAX)
        return lk_error_set(r->err, LK_ERR_FORMAT,
                            "%s: \"%s\" must be an integer that fits 32 bits, not %g", r->file,
                            key, v);
    *out = (int32_t)v;
    return LK_OK;
}

static lk_status as_float(const reader *r, const char *key, const cJSON *it, float *out) {
    if (!cJSON_IsNumber(it)) return type_error(r, key, "a number", it);
    double v = it->valuedouble;
    if (!isfinite(v) || fabs(v) > 3.0e38)
        return lk_error_set(r->err, LK_ERR_FORMAT, "%s: \"%s\" = %g does not fit a float",
                            r->file, key, v);
    *out = (float)v;
    return LK_OK;
}

static lk_status as_bool(const reader *r, const char *key, const cJSON *it, bool *out) {
    if (!cJSON_IsBool(it)) return type_error(r, key, "true or false", it);
    *out = cJSON_IsTrue(it);
    return LK_OK;
}

static lk_status as_string(const reader *r, const char *key, const cJSON *it, const char **out) {
    if (!cJSON_IsString(it) || !it->valuestring) return type_error(r, key, "a string", it);
    *out = it->valuestring;
    return LK_OK;
}

static lk_status missing(const reader *r, const char *key, const char *what) {
    return lk_error_set(r->err, LK_ERR_FORMAT,
                        "%s: required key \"%s\" (%s) is missing or null; is this the "
                        "config.json of a complete model?",
                        r->file, key, what);
}

/* Required positive integer. alias may be NULL. */
static lk_status req_size(const reader *r, const cJSON *obj, const char *key, const char *alias,
                          const char *what, int32_t *out) {
    const char *used;
    const cJSON *it = member2(obj, key, alias, &used);
    if (!it || cJSON_IsNull(it)) return missing(r, key, what);
    lk_status st = as_int(r, used, it, out);
    if (st) return st;
    if (*out < 1)
        return lk_error_set(r->err, LK_ERR_RANGE, "%s: \"%s\" = %d must be positive", r->file,
                            used, (int)*out);
    return LK_OK;
}

/* Integer with distinct meanings for an absent key and for null. */
static lk_status opt_int(const reader *r, const cJSON *obj, const char *key, const char *alias,
                         int32_t if_absent, int32_t if_null, int32_t *out) {
    const char *used;
    const cJSON *it = member2(obj, key, alias, &used);
    if (!it) {
        *out = if_absent;
        return LK_OK;
    }
    if (cJSON_IsNull(it)) {
        *out = if_null;
        return LK_OK;
    }
    return as_int(r, used, it, out);
}

static lk_status opt_float(const reader *r, const cJSON *obj, const char *key, float if_absent,
                           float if_null, float *out) {
    const cJSON *it = member(obj, key);
    if (!it) {
        *out = if_absent;
        return LK_OK;
    }
    if (cJSON_IsNull(it)) {
        *out = if_null;
        return LK_OK;
    }
    return as_float(r, key, it, out);
}

/* A key that must not be null when present. */
static lk_status opt_float_strict(const reader *r, const cJSON *obj, const char *key,
                                  float if_absent, float *out) {
    const cJSON *it = member(obj, key);
    if (!it) {
        *out = if_absent;
        return LK_OK;
    }
    return as_float(r, key, it, out);
}

static lk_status opt_bool(const reader *r, const cJSON *obj, const char *key, bool if_absent,
                          bool *out) {
    const cJSON *it = member(obj, key);
    if (!it) {
        *out = if_absent;
        return LK_OK;
    }
    return as_bool(r, key, it, out);
}

/* String; null counts as absent (transformers then uses the class default). */
static lk_status opt_string(const reader *r, const cJSON *obj, const char *key,
                            const char *if_absent, const char **out) {
    const cJSON *it = member(obj, key);
    if (!it || cJSON_IsNull(it)) {
        *out = if_absent;
        return LK_OK;
    }
    return as_string(r, key, it, out);
}

/* ---------------------------------------------------------------- pieces */

static lk_status parse_activation(const reader *r, const char *key, const char *name,
                                  lk_activation *out) {
    /* gelu_new, gelu_pytorch_tanh and gelu_fast are the same tanh formula. */
    static const struct {
        const char *name;
        lk_activation act;
    } known[] = {{"silu", LK_ACT_SILU},
                 {"swish", LK_ACT_SILU},
                 {"gelu", LK_ACT_GELU},
                 {"gelu_new", LK_ACT_GELU_TANH},
                 {"gelu_pytorch_tanh", LK_ACT_GELU_TANH},
                 {"gelu_fast", LK_ACT_GELU_TANH}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(name, known[i].name) == 0) {
            *out = known[i].act;
            return LK_OK;
        }
    return lk_error_set(r->err, LK_ERR_UNSUPPORTED,
                        "%s: \"%s\" = \"%.64s\" is not supported (llmkit knows silu, swish, gelu, "
                        "gelu_new, gelu_pytorch_tanh, gelu_fast)",
                        r->file, key, name);
}

/* rope_theta and rope scaling. transformers 4.x writes rope_theta at the top
 * level and a rope_scaling object ({"rope_type"|"type": ..., "factor": ...});
 * 5.x writes one rope_parameters object holding rope_theta and the scaling
 * keys. Both are read; rope_scaling wins when both describe scaling, as in
 * Phi3Config. */
static lk_status parse_rope(const reader *r, const cJSON *root, const hf_class *c,
                            lk_hparams *hp) {
    lk_status st;
    const cJSON *params = member(root, "rope_parameters");
    const cJSON *scaling = member(root, "rope_scaling");
    if (params && !cJSON_IsNull(params) && !cJSON_IsObject(params))
        return type_error(r, "rope_parameters", "an object or null", params);
    if (scaling && !cJSON_IsNull(scaling) && !cJSON_IsObject(scaling))
        return type_error(r, "rope_scaling", "an object or null", scaling);
    if (!cJSON_IsObject(params)) params = NULL;
    if (!cJSON_IsObject(scaling)) scaling = NULL;

    if ((st = opt_float_strict(r, root, "rope_theta", 10000.0f, &hp->rope_theta))) return st;
    if (params && (st = opt_float_strict(r, params, "rope_theta", hp->rope_theta,
                                         &hp->rope_theta)))
        return st;

    float partial = 1.0f;
    if (is(c, "phi3")) {
        if ((st = opt_float_strict(r, root, "partial_rotary_factor", 1.0f, &partial))) return st;
        if (params && (st = opt_float_strict(r, params, "partial_rotary_factor", partial,
                                             &partial)))
            return st;
        if (!(partial > 0.0f && partial <= 1.0f))
            return lk_error_set(r->err, LK_ERR_RANGE,
                                "%s: \"partial_rotary_factor\" = %g must be in (0, 1]", r->file,
                                (double)partial);
    }
    /* int(head_dim * factor), as Phi3's rotary embedding computes it. */
    hp->n_rot = (int32_t)((double)hp->head_dim * (double)partial);

    const cJSON *s = scaling ? scaling : params;
    const char *skey = scaling ? "rope_scaling" : "rope_parameters";
    hp->rope_scaling = LK_ROPE_SCALING_NONE;
    hp->rope_factor = 1.0f;
    if (!s) return LK_OK;
    const char *type = "default";
    const cJSON *t = member(s, "rope_type");
    const char *tkey = "rope_type";
    if (!t || cJSON_IsNull(t)) {
        t = member(s, "type");
        tkey = "type";
    }
    if (t && !cJSON_IsNull(t) && (st = as_string(r, tkey, t, &type))) return st;

    if (strcmp(type, "default") == 0) return LK_OK;
    if (strcmp(type, "linear") != 0 && strcmp(type, "llama3") != 0)
        return lk_error_set(r->err, LK_ERR_UNSUPPORTED,
                            "%s: %s type \"%.64s\" is not supported (llmkit handles linear and "
                            "llama3 rope scaling)",
                            r->file, skey, type);
    const cJSON *f = member(s, "factor");
    if (!f || cJSON_IsNull(f)) return missing(r, "factor", skey);
    if ((st = as_float(r, "factor", f, &hp->rope_factor))) return st;
    if (strcmp(type, "linear") == 0) {
        hp->rope_scaling = LK_ROPE_SCALING_LINEAR;
        return LK_OK;
    }
    hp->rope_scaling = LK_ROPE_SCALING_LLAMA3;
    static const char *const keys[] = {"low_freq_factor", "high_freq_factor",
                                       "original_max_position_embeddings"};
    const cJSON *v[3];
    for (int i = 0; i < 3; i++) {
        v[i] = member(s, keys[i]);
        if (!v[i] || cJSON_IsNull(v[i])) return missing(r, keys[i], "llama3 rope scaling");
    }
    if ((st = as_float(r, keys[0], v[0], &hp->rope_low_freq_factor))) return st;
    if ((st = as_float(r, keys[1], v[1], &hp->rope_high_freq_factor))) return st;
    return as_int(r, keys[2], v[2], &hp->rope_orig_ctx);
}

/* A token id or a list of them (eos_token_id). *present is false when the
 * key is absent; null gives present with n = 0. -1 alone means "none". */
static lk_status parse_token_ids(const reader *r, const cJSON *obj, const char *key,
                                 bool allow_list, bool *present, int32_t *ids, int32_t *n) {
    const cJSON *it = member(obj, key);
    *present = it != NULL;
    *n = 0;
    if (!it || cJSON_IsNull(it)) return LK_OK;
    lk_status st;
    if (cJSON_IsArray(it) && allow_list) {
        for (const cJSON *e = it->child; e; e = e->next) {
            int32_t id;
            if ((st = as_int(r, key, e, &id))) return st;
            bool dup = false;
            for (int32_t i = 0; i < *n; i++) dup = dup || ids[i] == id;
            /* More than LK_MAX_EOS distinct ids: the first ones are kept. */
            if (!dup && *n < LK_MAX_EOS) ids[(*n)++] = id;
        }
        return LK_OK;
    }
    int32_t id;
    if (!cJSON_IsNumber(it))
        return type_error(r, key, allow_list ? "an integer or a list of integers" : "an integer",
                          it);
    if ((st = as_int(r, key, it, &id))) return st;
    if (id != -1) ids[(*n)++] = id;
    return LK_OK;
}

/* bos/eos/pad from one document; keys present there replace what hp holds.
 * In config.json null means None (no such token); in generation_config.json
 * a null leaves the model config's value, as GenerationConfig does. */
static lk_status parse_special_tokens(const reader *r, const cJSON *obj, bool null_clears,
                                      lk_hparams *hp) {
    lk_status st;
    bool present;
    int32_t ids[LK_MAX_EOS], n;
    if ((st = parse_token_ids(r, obj, "bos_token_id", false, &present, ids, &n))) return st;
    present = present && (null_clears || !cJSON_IsNull(member(obj, "bos_token_id")));
    if (present) hp->bos_id = n ? ids[0] : -1;
    if ((st = parse_token_ids(r, obj, "pad_token_id", false, &present, ids, &n))) return st;
    present = present && (null_clears || !cJSON_IsNull(member(obj, "pad_token_id")));
    if (present) hp->pad_id = n ? ids[0] : -1;
    if ((st = parse_token_ids(r, obj, "eos_token_id", true, &present, ids, &n))) return st;
    present = present && (null_clears || !cJSON_IsNull(member(obj, "eos_token_id")));
    if (present) {
        hp->n_eos = n;
        for (int32_t i = 0; i < LK_MAX_EOS; i++) hp->eos_ids[i] = i < n ? ids[i] : -1;
    }
    return LK_OK;
}

/* Qwen2/Qwen3: a window applies only when use_sliding_window is true, and
 * then only to layers >= max_window_layers. lk_hparams has one window for all
 * layers, so a window on only some layers is refused rather than misapplied. */
static lk_status qwen_sliding_window(const reader *r, const cJSON *root, lk_hparams *hp) {
    lk_status st;
    bool use = false;
    int32_t window, max_window_layers;
    if ((st = opt_bool(r, root, "use_sliding_window", false, &use))) return st;
    if ((st = opt_int(r, root, "sliding_window", NULL, 4096, 0, &window))) return st;
    if ((st = opt_int(r, root, "max_window_layers", NULL, 28, 28, &max_window_layers)))
        return st;
    hp->sliding_window = 0;
    if (!use || window == 0 || max_window_layers >= hp->n_layer) return LK_OK;
    if (max_window_layers <= 0) {
        hp->sliding_window = window;
        return LK_OK;
    }
    return lk_error_set(r->err, LK_ERR_UNSUPPORTED,
                        "%s: use_sliding_window with max_window_layers = %d < %d layers (a window "
                        "on some layers only) is not supported",
                        r->file, (int)max_window_layers, (int)hp->n_layer);
}

/* ---------------------------------------------------------------- the parser */

static lk_status parse_root(const reader *r, const cJSON *root, lk_hparams *hp) {
    lk_status st;
    const char *model_type = NULL;
    const cJSON *mt = member(root, "model_type");
    if (!mt || cJSON_IsNull(mt)) return missing(r, "model_type", "the architecture");
    if ((st = as_string(r, "model_type", mt, &model_type))) return st;
    const hf_class *c = NULL;
    for (size_t i = 0; i < N_CLASSES; i++)
        if (is(&HF_CLASSES[i], model_type)) c = &HF_CLASSES[i];
    if (!c)
        return lk_error_set(r->err, LK_ERR_UNSUPPORTED,
                            "%s: model_type \"%.64s\" is not supported (supported: %s)", r->file,
                            model_type, lk_hf_supported_model_types());

    lk_hparams_init(hp);
    snprintf(hp->arch, sizeof hp->arch, "%s", c->model_type);
    hp->norm = c->norm;
    hp->rope_layout = c->rope;
    const bool encoder_or_gpt2 = c->rope == LK_ROPE_NONE;

    if ((st = req_size(r, root, "vocab_size", NULL, "vocabulary size", &hp->n_vocab))) return st;
    if ((st = req_size(r, root, c->k_hidden, c->a_hidden, "hidden size", &hp->n_embd))) return st;
    if ((st = req_size(r, root, c->k_layers, c->a_layers, "layer count", &hp->n_layer)))
        return st;
    if ((st = req_size(r, root, c->k_heads, c->a_heads, "attention head count", &hp->n_head)))
        return st;

    if (is(c, "gpt2")) {
        /* n_inner: None means 4 * n_embd (GPT2MLP). */
        if ((st = opt_int(r, root, "n_inner", NULL, 0, 0, &hp->n_ff))) return st;
        if (hp->n_ff == 0) hp->n_ff = hp->n_embd > INT32_MAX / 4 ? -1 : 4 * hp->n_embd;
    } else if ((st = req_size(r, root, "intermediate_size", NULL, "feed-forward size",
                              &hp->n_ff))) {
        return st;
    }

    /* Key/value heads and head size. gpt2 and bert have neither key. */
    if (encoder_or_gpt2) {
        hp->n_head_kv = hp->n_head;
        hp->head_dim = DERIVED;
    } else {
        int32_t kv_absent = c->kv_heads == DERIVED ? hp->n_head : c->kv_heads;
        if ((st = opt_int(r, root, "num_key_value_heads", NULL, kv_absent, hp->n_head,
                          &hp->n_head_kv)))
            return st;
        if ((st = opt_int(r, root, "head_dim", NULL, c->head_dim, DERIVED, &hp->head_dim)))
            return st;
    }
    if (hp->head_dim == DERIVED) {
        if (hp->n_embd % hp->n_head != 0)
            return lk_error_set(r->err, LK_ERR_RANGE,
                                "%s: hidden size %d is not a multiple of %d attention heads",
                                r->file, (int)hp->n_embd, (int)hp->n_head);
        hp->head_dim = hp->n_embd / hp->n_head;
    }

    if ((st = opt_int(r, root, c->k_ctx, c->a_ctx, c->ctx, -1, &hp->n_ctx_train))) return st;
    if ((st = opt_float_strict(r, root, c->k_eps, c->eps, &hp->norm_eps))) return st;

    const char *act_key = c->k_act, *act = c->act;
    if (is(c, "gemma") || is(c, "gemma2")) {
        /* GemmaConfig reads hidden_activation; the first Gemma releases also
         * carried hidden_act "gelu", which transformers (and llama.cpp) do
         * not use: when hidden_activation is absent the tanh GELU applies. */
        act_key = "hidden_activation";
    }
    if ((st = opt_string(r, root, act_key, c->act, &act))) return st;
    if ((st = parse_activation(r, act_key, act, &hp->act))) return st;

    if ((st = opt_bool(r, root, "tie_word_embeddings", c->tie, &hp->tied_embeddings))) return st;

    if (hp->rope_layout != LK_ROPE_NONE && (st = parse_rope(r, root, c, hp))) return st;

    /* Per-class features. */
    if (encoder_or_gpt2 || is(c, "qwen2")) {
        hp->attn_qkv_bias = true; /* gpt2 and bert: every linear; Qwen2: q/k/v always */
    } else if (!is(c, "mistral") && !is(c, "phi3")) {
        if ((st = opt_bool(r, root, "attention_bias", false, &hp->attn_qkv_bias))) return st;
    }
    hp->qk_norm = is(c, "qwen3");
    if (is(c, "gemma") || is(c, "gemma2")) {
        hp->embd_scale = true;
        hp->norm_plus_one = true;
    }
    if (is(c, "mistral") || is(c, "gemma2")) {
        if ((st = opt_int(r, root, "sliding_window", NULL, 4096, 0, &hp->sliding_window)))
            return st;
    } else if (is(c, "phi3")) {
        if ((st = opt_int(r, root, "sliding_window", NULL, 0, 0, &hp->sliding_window))) return st;
    } else if (is(c, "qwen2") || is(c, "qwen3")) {
        if ((st = qwen_sliding_window(r, root, hp))) return st;
    }
    if (is(c, "gemma2")) {
        if ((st = opt_float(r, root, "attn_logit_softcapping", 50.0f, 0.0f, &hp->attn_softcap)))
            return st;
        if ((st = opt_float(r, root, "final_logit_softcapping", 30.0f, 0.0f,
                            &hp->final_softcap)))
            return st;
        if ((st = opt_float_strict(r, root, "query_pre_attn_scalar", 256.0f,
                                   &hp->query_pre_attn_scalar)))
            return st;
        if (!(hp->query_pre_attn_scalar > 0))
            return lk_error_set(r->err, LK_ERR_RANGE,
                                "%s: \"query_pre_attn_scalar\" must be positive", r->file);
    }
    if (is(c, "bert")) {
        const char *pos = "absolute";
        if ((st = opt_string(r, root, "position_embedding_type", "absolute", &pos))) return st;
        if (strcmp(pos, "absolute") != 0)
            return lk_error_set(r->err, LK_ERR_UNSUPPORTED,
                                "%s: position_embedding_type \"%.64s\" is not supported (only "
                                "\"absolute\")",
                                r->file, pos);
    }

    hp->bos_id = c->bos;
    hp->pad_id = c->pad;
    hp->n_eos = c->eos == NO_TOKEN ? 0 : 1;
    hp->eos_ids[0] = c->eos;
    return parse_special_tokens(r, root, true, hp);
}

static lk_status parse_doc(const lk_json_doc *doc, cJSON **out, lk_error *err) {
    *out = cJSON_ParseWithLength(doc->text, doc->len);
    if (!*out)
        return lk_error_set(err, LK_ERR_FORMAT, "%s: not valid JSON (or out of memory)",
                            doc->name);
    if (!cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return lk_error_set(err, LK_ERR_FORMAT, "%s: expected a JSON object at the top level",
                            doc->name);
    }
    return LK_OK;
}

lk_status lk_hf_config_parse(const lk_json_doc *config, const lk_json_doc *generation,
                             lk_hparams *out, lk_error *err) {
    if (!config || !config->text || !config->name || !out ||
        (generation && (!generation->text || !generation->name)))
        return lk_error_set(err, LK_ERR_ARG, "lk_hf_config_parse: missing argument");
    cJSON *root = NULL, *gen = NULL;
    lk_hparams hp;
    lk_status st = parse_doc(config, &root, err);
    if (!st) {
        reader r = {config->name, err};
        st = parse_root(&r, root, &hp);
    }
    if (!st && generation && !(st = parse_doc(generation, &gen, err))) {
        reader r = {generation->name, err};
        st = parse_special_tokens(&r, gen, false, &hp);
    }
    if (!st) st = lk_hparams_check(&hp, config->name, err);
    cJSON_Delete(root);
    cJSON_Delete(gen);
    if (!st) *out = hp;
    return st;
}

/* ---------------------------------------------------------------- files */

#define HF_CONFIG_MAX_BYTES (16u << 20)

lk_status lk_hf_config_load(const char *dir, lk_hparams *out, lk_error *err) {
    char config_path[4096], gen_path[4096];
    if (snprintf(config_path, sizeof config_path, "%s/config.json", dir) >=
            (int)sizeof config_path ||
        snprintf(gen_path, sizeof gen_path, "%s/generation_config.json", dir) >=
            (int)sizeof gen_path)
        return lk_error_set(err, LK_ERR_ARG, "%s: path too long", dir);
    char *config_text = NULL, *gen_text = NULL;
    size_t config_len = 0, gen_len = 0;
    lk_status st = lk_read_file(config_path, HF_CONFIG_MAX_BYTES, &config_text, &config_len, err);
    bool have_gen = !st && access(gen_path, F_OK) == 0;
    if (have_gen) st = lk_read_file(gen_path, HF_CONFIG_MAX_BYTES, &gen_text, &gen_len, err);
    if (!st) {
        lk_json_doc config = {config_text, config_len, config_path};
        lk_json_doc gen = {gen_text, gen_len, gen_path};
        st = lk_hf_config_parse(&config, have_gen ? &gen : NULL, out, err);
    }
    free(config_text);
    free(gen_text);
    return st;
}
