/* GGUF vocabularies: the tokenizer.ggml.* keys, read the way llama.cpp
 * reads them (llama-vocab.cpp), so that encoding matches llama.cpp.
 *
 * model "llama" -> SPM (scores order the merges), "gpt2" -> byte-level BPE
 * with the pre-tokenizer regexes named by tokenizer.ggml.pre, "bert" ->
 * WordPiece with U+2581 word starts, "t5" -> Unigram with SentencePiece's
 * precompiled charsmap. Defaults for absent keys are llama.cpp's. */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "format/gguf.h"
#include "tokenizer/tokenizer.h"

static int32_t get_id(const lk_gguf *g, const char *key, int32_t dflt) {
    int64_t v;
    if (lk_gguf_get_i64(g, key, &v) && v >= -1 && v <= INT32_MAX) return (int32_t)v;
    return dflt;
}

static bool get_flag(const lk_gguf *g, const char *key, bool dflt) {
    bool b;
    return lk_gguf_get_bool(g, key, &b) ? b : dflt;
}

/* tokenizer.ggml.model "t5" (llama.cpp's UGM). llama.cpp's converter
 * writes the SentencePiece model's pieces, scores and types, its
 * normalizer_spec (add_dummy_prefix -> add_space_prefix,
 * remove_extra_whitespaces, and precompiled_charsmap as a UINT8 array: the
 * same bytes HF's tokenizer.json holds in base64), and, from
 * added_tokens.json, USER_DEFINED pieces. It is set up as the pipeline HF
 * builds from the same SentencePiece model (t5-small's tokenizer.json):
 * Precompiled normalizer, WhitespaceSplit when extra whitespace is
 * removed, Metaspace (prefix U+2581 when add_space_prefix), Unigram. */
static lk_status setup_unigram(const lk_gguf *g, const char *path, lk_tokenizer *t, lk_error *err) {
    t->uscore = malloc((size_t)t->n_vocab * sizeof *t->uscore);
    if (!t->uscore) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
    /* The unknown-character cost is min score - 10 over NORMAL pieces, as in
     * llama.cpp (HF takes all SentencePiece pieces, whose non-normal ones
     * score 0, so the minimum is the same). */
    t->ugm_min_score = DBL_MAX;
    for (int32_t i = 0; i < t->n_vocab; i++) {
        t->uscore[i] = t->score[i]; /* float -> double is exact, as HF's f64 copies of SentencePiece's floats */
        if (t->type[i] == LK_TOKEN_NORMAL && t->uscore[i] < t->ugm_min_score) t->ugm_min_score = t->uscore[i];
    }
    if (t->ugm_min_score == DBL_MAX) t->ugm_min_score = 0.0;

    const lk_gguf_value *cm = lk_gguf_get(g, "tokenizer.ggml.precompiled_charsmap");
    if (cm) {
        if (cm->type != LK_GGUF_ARRAY || (cm->arr.elem_type != LK_GGUF_UINT8 && cm->arr.elem_type != LK_GGUF_INT8))
            return lk_error_set(err, LK_ERR_FORMAT,
                                "%s: tokenizer.ggml.precompiled_charsmap must be an array of uint8 (the "
                                "SentencePiece normalizer's bytes)", path);
        if (cm->arr.n > 0) {
            lk_norm_step step = {.kind = LK_NORM_PRECOMPILED};
            /* a copy: the step owns it and the trie needs 4-byte alignment */
            step.content = malloc((size_t)cm->arr.n);
            if (!step.content) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
            memcpy(step.content, cm->arr.data, (size_t)cm->arr.n);
            step.content_len = (size_t)cm->arr.n;
            if (!lk_precompiled_init(&step)) {
                free(step.content);
                return lk_error_set(err, LK_ERR_FORMAT,
                                    "%s: tokenizer.ggml.precompiled_charsmap is not a valid SentencePiece "
                                    "charsmap (a uint32 trie size, the trie, then the replacements)", path);
            }
            t->norm = malloc(sizeof *t->norm);
            if (!t->norm) {
                free(step.content);
                return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
            }
            t->norm[0] = step;
            t->n_norm = 1;
        }
    }

    /* llama.cpp's defaults: no dummy prefix, extra whitespace kept, unless
     * the keys say otherwise (the converter always writes both). */
    bool prefix = get_flag(g, "tokenizer.ggml.add_space_prefix", false);
    bool remove_ws = get_flag(g, "tokenizer.ggml.remove_extra_whitespaces", false);
    lk_status st;
    if (remove_ws) { /* HF's WhitespaceSplit */
        st = lk_pretok_add_regex(t, "\\s+", LK_SPLIT_REMOVED, false, err);
        if (st != LK_OK) return st;
    }
    lk_pretok_step ms = {.kind = LK_PRE_METASPACE, .prepend = prefix ? 2 : 0, .split = true};
    st = lk_pretok_add_step(t, &ms, err);
    if (st != LK_OK) return st;
    t->dec = LK_DEC_SPACE_MARKER | (prefix ? LK_DEC_STRIP_ONE : 0);
    return LK_OK;
}

lk_status lk_tokenizer_from_gguf(const lk_gguf *g, const char *path, lk_tokenizer **out, lk_error *err) {
    *out = NULL;
    lk_gguf_str model;
    if (!lk_gguf_get_str(g, "tokenizer.ggml.model", &model))
        return lk_error_set(err, LK_ERR_NOT_FOUND, "%s: no tokenizer.ggml.model key (no vocabulary in this file)", path);
    char mname[32] = "", pre[64] = "default";
    snprintf(mname, sizeof mname, "%.*s", (int)(model.len < 31 ? model.len : 31), model.ptr);
    lk_gguf_str ps;
    if (lk_gguf_get_str(g, "tokenizer.ggml.pre", &ps))
        snprintf(pre, sizeof pre, "%.*s", (int)(ps.len < 63 ? ps.len : 63), ps.ptr);

    lk_tokmodel kind;
    if (strcmp(mname, "llama") == 0) kind = LK_TOKMODEL_SPM;
    else if (strcmp(mname, "gpt2") == 0) kind = LK_TOKMODEL_BPE;
    else if (strcmp(mname, "bert") == 0) kind = LK_TOKMODEL_WPM;
    else if (strcmp(mname, "t5") == 0) kind = LK_TOKMODEL_UGM;
    else return lk_error_set(err, LK_ERR_UNSUPPORTED,
                             "%s: tokenizer.ggml.model \"%s\" is not supported (llama, gpt2, bert, t5)", path, mname);

    const lk_gguf_value *tokens;
    uint64_t n;
    if (!lk_gguf_get_str_array(g, "tokenizer.ggml.tokens", &tokens, &n) || n == 0 || n > INT32_MAX)
        return lk_error_set(err, LK_ERR_FORMAT, "%s: tokenizer.ggml.tokens is missing or not a string array", path);
    const void *scores = NULL, *types = NULL;
    uint64_t ns = 0, nt = 0;
    if (lk_gguf_get_num_array(g, "tokenizer.ggml.scores", LK_GGUF_FLOAT32, &scores, &ns) && ns != n)
        return lk_error_set(err, LK_ERR_FORMAT, "%s: tokenizer.ggml.scores has %llu entries for %llu tokens",
                            path, (unsigned long long)ns, (unsigned long long)n);
    if (lk_gguf_get_num_array(g, "tokenizer.ggml.token_type", LK_GGUF_INT32, &types, &nt) && nt != n)
        return lk_error_set(err, LK_ERR_FORMAT, "%s: tokenizer.ggml.token_type has %llu entries for %llu tokens",
                            path, (unsigned long long)nt, (unsigned long long)n);

    lk_tokenizer *t = lk_tok_new(kind);
    if (!t) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
    lk_status st = LK_OK;
    for (uint64_t i = 0; i < n; i++) {
        float sc = 0.0f;
        int32_t ty = LK_TOKEN_NORMAL;
        if (scores) memcpy(&sc, (const char *)scores + 4 * i, 4);
        if (types) memcpy(&ty, (const char *)types + 4 * i, 4);
        if (ty < 1 || ty > 6) ty = LK_TOKEN_NORMAL;
        if (lk_tok_add_piece(t, tokens[i].str.ptr, tokens[i].str.len, sc, (lk_token_type)ty) < 0) {
            st = lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
            goto fail;
        }
    }
    st = lk_tok_build_index(t, err);
    if (st != LK_OK) goto fail;

    bool add_bos_dflt = false, add_eos_dflt = false;
    if (kind == LK_TOKMODEL_SPM) {
        t->bos = 1, t->eos = 2, t->unk = 0;
        add_bos_dflt = true;
        t->add_space_prefix = get_flag(g, "tokenizer.ggml.add_space_prefix", true);
        lk_tok_check_split(t, "\xe2\x96\x81");
        t->dec = LK_DEC_SPACE_MARKER | LK_DEC_BYTE_FALLBACK | (t->add_space_prefix ? LK_DEC_STRIP_ONE : 0);
    } else if (kind == LK_TOKMODEL_BPE) {
        t->bos = 11, t->eos = 11, t->unk = -1;
        t->dec = LK_DEC_BYTELEVEL;
        const char *const *pats;
        int np = lk_pretok_patterns_for(pre, &pats);
        if (np == 0) {
            st = lk_error_set(err, LK_ERR_UNSUPPORTED,
                              "%s: tokenizer.ggml.pre \"%s\" is not supported (its pre-tokenizer regexes are unknown to llmkit)",
                              path, pre);
            goto fail;
        }
        for (int i = 0; i < np; i++) {
            st = lk_pretok_add_regex(t, pats[i], LK_SPLIT_ISOLATED, false, err);
            if (st != LK_OK) goto fail;
        }
        lk_pretok_step bl = {.kind = LK_PRE_BYTELEVEL};
        st = lk_pretok_add_step(t, &bl, err);
        if (st != LK_OK) goto fail;
        if (strcmp(pre, "llama3") == 0 || strcmp(pre, "llama-v3") == 0 || strcmp(pre, "llama-bpe") == 0 ||
            strcmp(pre, "falcon3") == 0) {
            t->ignore_merges = true;
            add_bos_dflt = true;
        }
        const lk_gguf_value *merges;
        uint64_t nm;
        if (!lk_gguf_get_str_array(g, "tokenizer.ggml.merges", &merges, &nm)) {
            st = lk_error_set(err, LK_ERR_FORMAT, "%s: tokenizer.ggml.merges is missing (needed by a gpt2 vocabulary)", path);
            goto fail;
        }
        for (uint64_t i = 0; i < nm && i < INT32_MAX; i++) {
            const char *m = merges[i].str.ptr;
            size_t ml = merges[i].str.len;
            /* The separator is the first space after the first byte, as in llama.cpp. */
            size_t sp = 1;
            while (sp < ml && m[sp] != ' ') sp++;
            if (ml < 3 || sp >= ml) continue;
            int32_t a = lk_tok_lookup(t, m, sp), b = lk_tok_lookup(t, m + sp + 1, ml - sp - 1);
            int32_t r = lk_tok_lookup2(t, m, sp, m + sp + 1, ml - sp - 1);
            if (a < 0 || b < 0 || r < 0) continue;
            st = lk_tok_add_merge(t, a, b, (int32_t)i, r, err);
            if (st != LK_OK) goto fail;
        }
    } else if (kind == LK_TOKMODEL_UGM) {
        t->bos = -1, t->eos = 1, t->unk = 2;
        add_eos_dflt = true;
        st = setup_unigram(g, path, t, err);
        if (st != LK_OK) goto fail;
    } else {
        t->bos = 101, t->eos = 102, t->unk = 100;
        t->wp_gguf = true;
        add_bos_dflt = add_eos_dflt = true;
        t->dec = LK_DEC_SPACE_MARKER | LK_DEC_STRIP_ONE | LK_DEC_CLEANUP;
    }
    t->bos = get_id(g, "tokenizer.ggml.bos_token_id", t->bos);
    t->eos = get_id(g, "tokenizer.ggml.eos_token_id", t->eos);
    t->unk = get_id(g, "tokenizer.ggml.unknown_token_id", t->unk);
    t->sep = get_id(g, "tokenizer.ggml.seperator_token_id", -1);
    t->pad = get_id(g, "tokenizer.ggml.padding_token_id", kind == LK_TOKMODEL_UGM ? 0 : -1);
    if (kind == LK_TOKMODEL_WPM) {
        /* llama.cpp's BERT: [CLS] text [SEP], stored as bos/eos or cls/sep ids */
        t->cls = get_id(g, "tokenizer.ggml.cls_token_id", t->bos);
        if (t->sep < 0) t->sep = t->eos;
    }
    bool add_bos = get_flag(g, "tokenizer.ggml.add_bos_token", add_bos_dflt);
    bool add_eos = get_flag(g, "tokenizer.ggml.add_eos_token", add_eos_dflt);
    int32_t first = kind == LK_TOKMODEL_WPM ? t->cls : t->bos;
    int32_t last = kind == LK_TOKMODEL_WPM ? t->sep : t->eos;
    if (add_bos && first >= 0 && first < t->n_vocab) t->prefix[t->n_prefix++] = first;
    if (add_eos && last >= 0 && last < t->n_vocab) t->suffix[t->n_suffix++] = last;
    int32_t *ids[] = {&t->bos, &t->eos, &t->unk, &t->pad, &t->sep, &t->cls, &t->mask};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (*ids[i] >= t->n_vocab) *ids[i] = -1;
    st = lk_tok_add_specials_from_types(t, err);
    if (st != LK_OK) goto fail;
    *out = t;
    return LK_OK;
fail:
    lk_tokenizer_free(t);
    return st;
}

lk_status lk_tokenizer_from_gguf_file(const char *path, lk_tokenizer **out, lk_error *err) {
    *out = NULL;
    lk_gguf *g;
    lk_status st = lk_gguf_open(path, &g, err);
    if (st != LK_OK) return st;
    st = lk_tokenizer_from_gguf(g, path, out, err);
    lk_gguf_close(g);
    return st;
}
