/* HF <-> internal tensor names, driven by one table.
 *
 * Each row pairs an HF name stem with an internal stem for a set of
 * architectures; '#' in a stem stands for the block index. A full name is
 * stem + ".weight" or ".bias". Rows marked TOP match only a name without the
 * architecture's prefix (lm_head.weight sits beside "model.", not in it);
 * rows marked IGNORE name tensors that exist in checkpoints but are not
 * weights llmkit uses, either whole names (WHOLE) or every name under a
 * prefix (UNDER). */
#include "format/tensor_names.h"

#include <stdio.h>
#include <string.h>

#include "base/error.h"

enum {
    A_LLAMA = 1u << 0,
    A_MISTRAL = 1u << 1,
    A_QWEN2 = 1u << 2,
    A_QWEN3 = 1u << 3,
    A_GEMMA = 1u << 4,
    A_GEMMA2 = 1u << 5,
    A_PHI3 = 1u << 6,
    A_GPT2 = 1u << 7,
    A_BERT = 1u << 8,
    /* The decoder-only models with the Llama module layout. */
    A_LLAMA_LIKE = A_LLAMA | A_MISTRAL | A_QWEN2 | A_QWEN3 | A_GEMMA | A_GEMMA2 | A_PHI3,
    A_SPLIT_QKV = A_LLAMA_LIKE & ~A_PHI3,
};

enum {
    TOP = 1u << 0,    /* outside the architecture prefix */
    IGNORE = 1u << 1, /* known, unused */
    WHOLE = 1u << 2,  /* hf is the whole name (no .weight/.bias) */
    UNDER = 1u << 3,  /* hf is a prefix: every name below it */
    T = 1u << 4,      /* Conv1D: .weight needs LK_TNAME_TRANSPOSE */
};

typedef struct {
    const char *hf;
    const char *internal; /* NULL for IGNORE rows */
    unsigned archs;
    unsigned flags;
} name_rule;

static const name_rule RULES[] = {
    /* Llama-like decoders: model.embed_tokens, model.layers.N.*, model.norm, lm_head. */
    {"lm_head", "output", A_LLAMA_LIKE, TOP},
    {"embed_tokens", "token_embd", A_LLAMA_LIKE, 0},
    {"norm", "output_norm", A_LLAMA_LIKE, 0},
    {"layers.#.input_layernorm", "blk.#.attn_norm", A_LLAMA_LIKE, 0},
    {"layers.#.self_attn.q_proj", "blk.#.attn_q", A_SPLIT_QKV, 0},
    {"layers.#.self_attn.k_proj", "blk.#.attn_k", A_SPLIT_QKV, 0},
    {"layers.#.self_attn.v_proj", "blk.#.attn_v", A_SPLIT_QKV, 0},
    {"layers.#.self_attn.qkv_proj", "blk.#.attn_qkv", A_PHI3, 0},
    {"layers.#.self_attn.o_proj", "blk.#.attn_output", A_LLAMA_LIKE, 0},
    {"layers.#.self_attn.q_norm", "blk.#.attn_q_norm", A_QWEN3, 0},
    {"layers.#.self_attn.k_norm", "blk.#.attn_k_norm", A_QWEN3, 0},
    /* Gemma2 normalises four times per block; the others twice. */
    {"layers.#.post_attention_layernorm", "blk.#.ffn_norm", A_LLAMA_LIKE & ~A_GEMMA2, 0},
    {"layers.#.post_attention_layernorm", "blk.#.post_attention_norm", A_GEMMA2, 0},
    {"layers.#.pre_feedforward_layernorm", "blk.#.ffn_norm", A_GEMMA2, 0},
    {"layers.#.post_feedforward_layernorm", "blk.#.post_ffw_norm", A_GEMMA2, 0},
    {"layers.#.mlp.gate_proj", "blk.#.ffn_gate", A_SPLIT_QKV, 0},
    {"layers.#.mlp.up_proj", "blk.#.ffn_up", A_SPLIT_QKV, 0},
    {"layers.#.mlp.gate_up_proj", "blk.#.ffn_up", A_PHI3, 0},
    {"layers.#.mlp.down_proj", "blk.#.ffn_down", A_LLAMA_LIKE, 0},
    {"layers.#.self_attn.rotary_emb.inv_freq", NULL, A_LLAMA_LIKE, IGNORE | WHOLE},

    /* GPT-2: [transformer.]wte, wpe, h.N.*, ln_f; Conv1D weights are [in, out]. */
    {"lm_head", "output", A_GPT2, TOP},
    {"wte", "token_embd", A_GPT2, 0},
    {"wpe", "position_embd", A_GPT2, 0},
    {"ln_f", "output_norm", A_GPT2, 0},
    {"h.#.ln_1", "blk.#.attn_norm", A_GPT2, 0},
    {"h.#.attn.c_attn", "blk.#.attn_qkv", A_GPT2, T},
    {"h.#.attn.c_proj", "blk.#.attn_output", A_GPT2, T},
    {"h.#.ln_2", "blk.#.ffn_norm", A_GPT2, 0},
    {"h.#.mlp.c_fc", "blk.#.ffn_up", A_GPT2, T},
    {"h.#.mlp.c_proj", "blk.#.ffn_down", A_GPT2, T},
    /* Causal-mask buffers older transformers saved with the weights. */
    {"h.#.attn.bias", NULL, A_GPT2, IGNORE | WHOLE},
    {"h.#.attn.masked_bias", NULL, A_GPT2, IGNORE | WHOLE},

    /* BERT: [bert.]embeddings.*, encoder.layer.N.* (post-norm blocks). */
    {"embeddings.word_embeddings", "token_embd", A_BERT, 0},
    {"embeddings.token_type_embeddings", "token_types", A_BERT, 0},
    {"embeddings.position_embeddings", "position_embd", A_BERT, 0},
    {"embeddings.LayerNorm", "token_embd_norm", A_BERT, 0},
    {"encoder.layer.#.attention.self.query", "blk.#.attn_q", A_BERT, 0},
    {"encoder.layer.#.attention.self.key", "blk.#.attn_k", A_BERT, 0},
    {"encoder.layer.#.attention.self.value", "blk.#.attn_v", A_BERT, 0},
    {"encoder.layer.#.attention.output.dense", "blk.#.attn_output", A_BERT, 0},
    {"encoder.layer.#.attention.output.LayerNorm", "blk.#.attn_output_norm", A_BERT, 0},
    {"encoder.layer.#.intermediate.dense", "blk.#.ffn_up", A_BERT, 0},
    {"encoder.layer.#.output.dense", "blk.#.ffn_down", A_BERT, 0},
    {"encoder.layer.#.output.LayerNorm", "blk.#.layer_output_norm", A_BERT, 0},
    {"embeddings.position_ids", NULL, A_BERT, IGNORE | WHOLE},
    {"pooler.", NULL, A_BERT, IGNORE | UNDER},
    {"cls.", NULL, A_BERT, IGNORE | UNDER | TOP},
};

#define N_RULES (sizeof RULES / sizeof RULES[0])

typedef struct {
    const char *name;
    unsigned bit;
    const char *hf_prefix; /* stripped on input when present, written on output */
} arch_names;

static const arch_names ARCHS[] = {
    {"llama", A_LLAMA, "model."}, {"mistral", A_MISTRAL, "model."}, {"qwen2", A_QWEN2, "model."},
    {"qwen3", A_QWEN3, "model."}, {"gemma", A_GEMMA, "model."},     {"gemma2", A_GEMMA2, "model."},
    {"phi3", A_PHI3, "model."},   {"gpt2", A_GPT2, "transformer."}, {"bert", A_BERT, "bert."},
};

/* Prefix written by lk_tensor_name_to_hf: the layouts named in the header. */
static const char *hf_write_prefix(const arch_names *a) {
    return a->bit & A_LLAMA_LIKE ? a->hf_prefix : "";
}

static const arch_names *find_arch(const char *arch, lk_error *err) {
    for (size_t i = 0; i < sizeof ARCHS / sizeof ARCHS[0]; i++)
        if (strcmp(ARCHS[i].name, arch) == 0) return &ARCHS[i];
    lk_error_set(err, LK_ERR_UNSUPPORTED,
                 "architecture \"%.64s\" has no tensor-name mapping (supported: llama, mistral, "
                 "qwen2, qwen3, gemma, gemma2, phi3, gpt2, bert)",
                 arch);
    return NULL;
}

/* Matches pattern (with at most one '#') at the start of s. A block index is
 * 1..5 decimal digits without a leading zero. Returns the rest of s after the
 * match, or NULL; *block gets the index (-1 when the pattern has none). */
static const char *match_stem(const char *pattern, const char *s, long *block) {
    *block = -1;
    for (; *pattern; pattern++) {
        if (*pattern != '#') {
            if (*s++ != *pattern) return NULL;
            continue;
        }
        if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9')) return NULL;
        long v = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            if (++digits > 5) return NULL;
            v = v * 10 + (*s++ - '0');
        }
        *block = v;
    }
    return s;
}

/* Writes stem (with '#' replaced by block) + suffix. false when it does not fit. */
static bool build(char *out, size_t cap, const char *prefix, const char *stem, long block,
                  const char *suffix) {
    const char *hash = strchr(stem, '#');
    int n;
    if (hash)
        n = snprintf(out, cap, "%s%.*s%ld%s%s", prefix, (int)(hash - stem), stem, block, hash + 1,
                     suffix);
    else
        n = snprintf(out, cap, "%s%s%s", prefix, stem, suffix);
    return n >= 0 && (size_t)n < cap;
}

/* The parameter suffix: ".weight"/".bias", or the old LayerNorm spellings. */
static const char *param_suffix(const char *rest) {
    if (strcmp(rest, ".weight") == 0 || strcmp(rest, ".gamma") == 0) return ".weight";
    if (strcmp(rest, ".bias") == 0 || strcmp(rest, ".beta") == 0) return ".bias";
    return NULL;
}

static void set_unknown(lk_tensor_name *out) {
    out->kind = LK_TNAME_UNKNOWN;
    out->transform = 0;
    out->name[0] = '\0';
}

lk_status lk_tensor_name_from_hf(const char *arch, const char *hf_name, lk_tensor_name *out,
                                 lk_error *err) {
    if (!arch || !hf_name || !out)
        return lk_error_set(err, LK_ERR_ARG, "lk_tensor_name_from_hf: missing argument");
    set_unknown(out);
    const arch_names *a = find_arch(arch, err);
    if (!a) return LK_ERR_UNSUPPORTED;
    size_t plen = strlen(a->hf_prefix);
    const char *inner = strncmp(hf_name, a->hf_prefix, plen) == 0 ? hf_name + plen : hf_name;
    for (size_t i = 0; i < N_RULES; i++) {
        const name_rule *r = &RULES[i];
        if (!(r->archs & a->bit)) continue;
        /* TOP rules see the name as written; the others its prefix-less form. */
        const char *subject = r->flags & TOP ? hf_name : inner;
        long block;
        const char *rest = match_stem(r->hf, subject, &block);
        if (!rest) continue;
        if (r->flags & IGNORE) {
            if ((r->flags & UNDER) || *rest == '\0') {
                out->kind = LK_TNAME_IGNORED;
                return LK_OK;
            }
            continue;
        }
        const char *suffix = param_suffix(rest);
        if (!suffix) continue;
        if (!build(out->name, sizeof out->name, "", r->internal, block, suffix)) continue;
        out->kind = LK_TNAME_MAPPED;
        out->transform = (r->flags & T) && strcmp(suffix, ".weight") == 0 ? LK_TNAME_TRANSPOSE : 0;
        return LK_OK;
    }
    return LK_OK;
}

lk_status lk_tensor_name_to_hf(const char *arch, const char *name, lk_tensor_name *out,
                               lk_error *err) {
    if (!arch || !name || !out)
        return lk_error_set(err, LK_ERR_ARG, "lk_tensor_name_to_hf: missing argument");
    set_unknown(out);
    const arch_names *a = find_arch(arch, err);
    if (!a) return LK_ERR_UNSUPPORTED;
    for (size_t i = 0; i < N_RULES; i++) {
        const name_rule *r = &RULES[i];
        if (!(r->archs & a->bit) || (r->flags & IGNORE)) continue;
        long block;
        const char *rest = match_stem(r->internal, name, &block);
        /* Only the canonical spellings are accepted on this side. */
        if (!rest || (strcmp(rest, ".weight") != 0 && strcmp(rest, ".bias") != 0)) continue;
        const char *prefix = r->flags & TOP ? "" : hf_write_prefix(a);
        if (!build(out->name, sizeof out->name, prefix, r->hf, block, rest)) continue;
        out->kind = LK_TNAME_MAPPED;
        out->transform = (r->flags & T) && strcmp(rest, ".weight") == 0 ? LK_TNAME_TRANSPOSE : 0;
        return LK_OK;
    }
    return LK_OK;
}
