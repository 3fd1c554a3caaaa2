/* WordPiece and Unigram tokenizer.json files as GGUF vocabularies, the way
 * llama.cpp's convert_hf_to_gguf.py writes them (BertModel.set_vocab and
 * T5Model.set_vocab), so that llama.cpp and llmkit's GGUF loader
 * (tokenizer/load_gguf.c) tokenize as the tokenizer.json does.
 *
 * Both take the token list by id: model.vocab, then added_tokens (special
 * ones CONTROL, the others USER_DEFINED), ids up to the model's rows that
 * neither names become "[PAD<id>]" (UNUSED).
 *
 * WordPiece -> tokenizer.ggml.model "bert": llama.cpp marks word starts
 * instead of continuations, so "##ing" is written "ing", every other
 * non-CONTROL piece gets a U+2581 in front ("play" -> "\u2581play").
 * llama.cpp's WordPiece always runs BERT's uncased basic tokenizer (clean
 * up, CJK split, NFD, accents stripped, lower case, punctuation split), so
 * only a tokenizer.json that does the same (BertNormalizer with lowercase,
 * BertPreTokenizer, "##" continuations) is written; a cased one would
 * tokenize differently and is refused. tokenizer.ggml.normalizer.lowercase
 * is set as gguf-py does; tokenizer.ggml.pre is "default" (llama.cpp
 * ignores it for bert; its converter names it after a hash of a test
 * tokenization), token_type_count is config.json's type_vocab_size.
 *
 * Unigram -> "t5": pieces and scores (float) from model.vocab, the unk_id
 * piece UNKNOWN; added tokens past model.vocab score -1000 (the converter's
 * added_tokens.json rule), empty rows -10000. SentencePiece's normalizer
 * spec is read back from the pipeline HF built from it: the Precompiled
 * normalizer's charsmap (written as a UINT8 array, decoded from base64),
 * WhitespaceSplit -> remove_extra_whitespaces, Metaspace prepending ->
 * add_space_prefix (prepend_scheme "first" too: it differs from "always"
 * only after a special token). Other pipelines have no GGUF form and are
 * refused.
 *
 * Special ids and add_bos/add_eos/add_sep: gguf_meta_special_vocab.c. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "format/gguf_meta_tokenizer_hf.h"
#include "tokenizer/tokenizer.h"

#define SPACE_MARK "\xe2\x96\x81" /* U+2581 */
#define MAX_TOKENS (1 << 24)

typedef struct {
    int64_t n;
    const char **tokens; /* into the JSON, or owned[i] */
    char **owned;
    float *scores;
    int32_t *types;
} table;

static void table_free(table *t) {
    for (int64_t i = 0; t->owned && i < t->n; i++) free(t->owned[i]);
    free(t->owned);
    free((void *)t->tokens);
    free(t->scores);
    free(t->types);
}

static const cJSON *jget(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }
static const char *jstr(const cJSON *o, const char *k) { return cJSON_GetStringValue(jget(o, k)); }
static bool is(const char *a, const char *b) { return a && strcmp(a, b) == 0; }

/* Rows: the model's, or more when the tokenizer names higher ids. Fills
 * every row with "[PAD<id>]" UNUSED of the given score. */
static lk_status table_init(table *t, const cJSON *root, int32_t n_vocab, float pad_score, const char *path,
                            lk_error *err) {
    memset(t, 0, sizeof *t);
    const cJSON *vocab = jget(jget(root, "model"), "vocab");
    int64_t n = n_vocab;
    const cJSON *it;
    if (cJSON_IsArray(vocab)) {
        if (cJSON_GetArraySize(vocab) > n) n = cJSON_GetArraySize(vocab);
    } else {
        cJSON_ArrayForEach(it, vocab) if (cJSON_IsNumber(it) && it->valuedouble >= n) n = (int64_t)it->valuedouble + 1;
    }
    cJSON_ArrayForEach(it, jget(root, "added_tokens")) {
        const cJSON *id = jget(it, "id");
        if (cJSON_IsNumber(id) && id->valuedouble >= n) n = (int64_t)id->valuedouble + 1;
    }
    if (n <= 0 || n > MAX_TOKENS) return lk_error_set(err, LK_ERR_FORMAT, "%s: %lld tokens", path, (long long)n);
    t->n = n;
    t->tokens = calloc((size_t)n, sizeof *t->tokens);
    t->owned = calloc((size_t)n, sizeof *t->owned);
    t->scores = malloc((size_t)n * sizeof *t->scores);
    t->types = malloc((size_t)n * sizeof *t->types);
    if (!t->tokens || !t->owned || !t->scores || !t->types)
        return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
    for (int64_t i = 0; i < n; i++) {
        t->owned[i] = malloc(32);
        if (!t->owned[i]) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
        snprintf(t->owned[i], 32, "[PAD%lld]", (long long)i);
        t->tokens[i] = t->owned[i];
        t->scores[i] = pad_score;
        t->types[i] = LK_TOKEN_UNUSED;
    }
    return LK_OK;
}

/* added_tokens over the model vocabulary: special CONTROL, others USER_DEFINED. */
static void table_add_added(table *t, const cJSON *root, int64_t n_model, float new_score) {
    const cJSON *it;
    cJSON_ArrayForEach(it, jget(root, "added_tokens")) {
        const cJSON *id = jget(it, "id");
        const char *content = jstr(it, "content");
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble >= (double)t->n || !content) continue;
        int64_t i = (int64_t)id->valuedouble;
        t->tokens[i] = content;
        t->types[i] = cJSON_IsTrue(jget(it, "special")) ? LK_TOKEN_CONTROL : LK_TOKEN_USER_DEFINED;
        if (i >= n_model) t->scores[i] = new_score;
    }
}

/* ---- WordPiece */

/* Does the tokenizer.json run exactly llama.cpp's WordPiece pipeline? NULL
 * when it does, else what differs. */
static const char *wordpiece_mismatch(const cJSON *root) {
    const cJSON *norm = jget(root, "normalizer"), *pre = jget(root, "pre_tokenizer"), *model = jget(root, "model");
    if (!is(jstr(norm, "type"), "BertNormalizer")) return "the normalizer is not BertNormalizer";
    if (cJSON_IsFalse(jget(norm, "lowercase"))) return "the normalizer keeps case (llama.cpp lower-cases)";
    if (cJSON_IsFalse(jget(norm, "strip_accents"))) return "the normalizer keeps accents (llama.cpp strips them)";
    if (cJSON_IsFalse(jget(norm, "clean_text"))) return "the normalizer does not clean the text";
    if (cJSON_IsFalse(jget(norm, "handle_chinese_chars"))) return "the normalizer does not split CJK characters";
    if (!is(jstr(pre, "type"), "BertPreTokenizer")) return "the pre-tokenizer is not BertPreTokenizer";
    const char *prefix = jstr(model, "continuing_subword_prefix");
    if (prefix && strcmp(prefix, "##") != 0) return "continuing_subword_prefix is not \"##\"";
    return NULL;
}

lk_status lk_gguf_meta_write_wordpiece(lk_gguf_writer *w, const cJSON *root, const cJSON *tokenizer_config,
                                       const cJSON *config, int32_t n_vocab, const char *path, lk_error *err) {
    const char *why = wordpiece_mismatch(root);
    if (why)
        return lk_error_set(err, LK_ERR_UNSUPPORTED,
                            "%s: this WordPiece tokenizer has no GGUF form: %s (llama.cpp's \"bert\" vocabulary "
                            "always tokenizes as uncased BERT)", path, why);
    table t;
    lk_status st = table_init(&t, root, n_vocab, 0.0f, path, err);
    if (st != LK_OK) goto done;
    const cJSON *it;
    cJSON_ArrayForEach(it, jget(jget(root, "model"), "vocab")) {
        if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble >= (double)t.n || !it->string) continue;
        t.tokens[(int64_t)it->valuedouble] = it->string;
        t.types[(int64_t)it->valuedouble] = LK_TOKEN_NORMAL;
    }
    table_add_added(&t, root, 0, 0.0f);
    /* llama.cpp's spelling: word starts marked, continuations bare, CONTROL tokens as they are */
    for (int64_t i = 0; i < t.n; i++) {
        const char *s = t.tokens[i];
        if (t.types[i] == LK_TOKEN_CONTROL) continue;
        if (strncmp(s, "##", 2) == 0) {
            t.tokens[i] = s + 2;
            continue;
        }
        size_t len = strlen(s);
        char *o = malloc(len + 4);
        if (!o) {
            st = lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        memcpy(o, SPACE_MARK, 3);
        memcpy(o + 3, s, len + 1);
        free(t.owned[i]); /* s may be this row's "[PAD<id>]": not read again */
        t.owned[i] = o;
        t.tokens[i] = o;
    }
    const cJSON *tvs = jget(config, "type_vocab_size");
    uint32_t type_count = cJSON_IsNumber(tvs) && tvs->valuedouble >= 0 ? (uint32_t)tvs->valuedouble : 1;
    if ((st = lk_gguf_writer_set_str(w, "tokenizer.ggml.model", "bert")) ||
        (st = lk_gguf_writer_set_str(w, "tokenizer.ggml.pre", "default")) ||
        (st = lk_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", t.tokens, (uint64_t)t.n)) ||
        (st = lk_gguf_writer_set_num_array(w, "tokenizer.ggml.token_type", LK_GGUF_INT32, t.types, (uint64_t)t.n)) ||
        (st = lk_gguf_writer_set_u32(w, "tokenizer.ggml.token_type_count", type_count)) ||
        (st = lk_gguf_writer_set_bool(w, "tokenizer.ggml.normalizer.lowercase", true))) {
        st = lk_error_set(err, st, "%s: cannot write the vocabulary", path);
        goto done;
    }
    st = lk_gguf_meta_write_special_vocab(w, root, tokenizer_config, t.n, path, err);
done:
    table_free(&t);
    return st;
}

/* ---- Unigram */

typedef struct {
    bool add_space_prefix, remove_extra_whitespaces;
} spm_normalizer_spec;

/* The SentencePiece normalizer spec behind HF's Unigram pipeline; NULL
 * when the pipeline is one GGUF cannot describe, else what differs. */
static const char *unigram_spec(const cJSON *root, spm_normalizer_spec *spec) {
    memset(spec, 0, sizeof *spec);
    const cJSON *norm = jget(root, "normalizer");
    const char *nt = jstr(norm, "type");
    if (is(nt, "Sequence")) {
        const cJSON *list = jget(norm, "normalizers");
        int n = cJSON_GetArraySize(list);
        if (n > 1 || (n == 1 && !is(jstr(cJSON_GetArrayItem(list, 0), "type"), "Precompiled")))
            return "the normalizer does more than SentencePiece's precompiled charsmap";
    } else if (norm && !cJSON_IsNull(norm) && !is(nt, "Precompiled")) {
        return "the normalizer is not SentencePiece's precompiled charsmap";
    }
    const cJSON *pre = jget(root, "pre_tokenizer");
    const cJSON *one[1] = {pre};
    const cJSON *list = is(jstr(pre, "type"), "Sequence") ? jget(pre, "pretokenizers") : NULL;
    int n = list ? cJSON_GetArraySize(list) : 1;
    const cJSON *meta = NULL;
    for (int i = 0; i < n; i++) {
        const cJSON *p = list ? cJSON_GetArrayItem(list, i) : one[0];
        const char *type = jstr(p, "type");
        if (is(type, "WhitespaceSplit") && i == 0 && n == 2) {
            spec->remove_extra_whitespaces = true;
        } else if (is(type, "Metaspace") && i == n - 1) {
            meta = p;
        } else {
            return "the pre-tokenizer is not SentencePiece's (Metaspace, after WhitespaceSplit when extra "
                   "whitespace is removed)";
        }
    }
    if (!meta) return "the pre-tokenizer has no Metaspace step";
    if (!is(jstr(meta, "replacement"), SPACE_MARK)) return "Metaspace replaces spaces with another mark than U+2581";
    if (cJSON_IsFalse(jget(meta, "split"))) return "Metaspace does not split at spaces";
    const char *scheme = jstr(meta, "prepend_scheme");
    spec->add_space_prefix = scheme ? !is(scheme, "never") : cJSON_IsTrue(jget(meta, "add_prefix_space"));
    if (cJSON_IsTrue(jget(jget(root, "model"), "byte_fallback"))) return "byte_fallback is set";
    return NULL;
}

lk_status lk_gguf_meta_write_unigram(lk_gguf_writer *w, const cJSON *root, const cJSON *tokenizer_config,
                                     int32_t n_vocab, const char *dir, lk_error *err) {
    spm_normalizer_spec spec;
    const char *why = unigram_spec(root, &spec);
    if (why)
        return lk_error_set(err, LK_ERR_UNSUPPORTED,
                            "%s: this Unigram tokenizer has no GGUF form: %s", dir, why);
    /* llmkit's own reading of the folder: checks it, and holds the decoded charsmap */
    lk_tokenizer *tok = NULL;
    lk_status st = lk_tokenizer_load(dir, &tok, err);
    if (st != LK_OK) return st;
    const lk_norm_step *charsmap = NULL;
    for (int i = 0; i < tok->n_norm; i++)
        if (tok->norm[i].kind == LK_NORM_PRECOMPILED) charsmap = &tok->norm[i];
    table t;
    const cJSON *model = jget(root, "model");
    const cJSON *unk = jget(model, "unk_id");
    int64_t unk_id = cJSON_IsNumber(unk) ? (int64_t)unk->valuedouble : -1;
    st = table_init(&t, root, n_vocab, -10000.0f, dir, err);
    if (st != LK_OK) goto done;
    int64_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, jget(model, "vocab")) {
        const char *piece = cJSON_GetStringValue(cJSON_GetArrayItem(it, 0));
        const cJSON *score = cJSON_GetArrayItem(it, 1);
        if (!piece || !cJSON_IsNumber(score)) {
            st = lk_error_set(err, LK_ERR_FORMAT, "%s: model.vocab[%lld] must be [piece, score]", dir, (long long)i);
            goto done;
        }
        t.tokens[i] = piece;
        t.scores[i] = (float)score->valuedouble; /* SentencePiece's own floats, widened by HF */
        t.types[i] = LK_TOKEN_NORMAL;
        i++;
    }
    table_add_added(&t, root, i, -1000.0f);
    if (unk_id >= 0 && unk_id < t.n) t.types[unk_id] = LK_TOKEN_UNKNOWN;
    if ((st = lk_gguf_writer_set_str(w, "tokenizer.ggml.model", "t5")) ||
        (st = lk_gguf_writer_set_str(w, "tokenizer.ggml.pre", "default")) ||
        (st = lk_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", t.tokens, (uint64_t)t.n)) ||
        (st = lk_gguf_writer_set_num_array(w, "tokenizer.ggml.scores", LK_GGUF_FLOAT32, t.scores, (uint64_t)t.n)) ||
        (st = lk_gguf_writer_set_num_array(w, "tokenizer.ggml.token_type", LK_GGUF_INT32, t.types, (uint64_t)t.n)) ||
        (st = lk_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", spec.add_space_prefix)) ||
        (st = lk_gguf_writer_set_bool(w, "tokenizer.ggml.remove_extra_whitespaces", spec.remove_extra_whitespaces)) ||
        (charsmap && charsmap->content_len > 0 &&
         (st = lk_gguf_writer_set_num_array(w, "tokenizer.ggml.precompiled_charsmap", LK_GGUF_UINT8,
                                            charsmap->content, (uint64_t)charsmap->content_len))) ||
        /* model.unk_id, unless tokenizer_config.json names another (next) */
        (unk_id >= 0 && unk_id < t.n &&
         (st = lk_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", (uint32_t)unk_id)))) {
        st = lk_error_set(err, st, "%s: cannot write the vocabulary", dir);
        goto done;
    }
    st = lk_gguf_meta_write_special_vocab(w, root, tokenizer_config, t.n, dir, err);
done:
    table_free(&t);
    lk_tokenizer_free(tok);
    return st;
}
