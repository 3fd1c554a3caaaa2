/* Tokenizer metadata for converted models (see gguf_meta_write.h).
 *
 * Written for byte-level BPE tokenizer.json files (GPT-2, Llama 3, Qwen2
 * style), the way convert_hf_to_gguf.py's get_vocab_base does:
 * tokenizer.ggml.model "gpt2", tokens by id (holes become "[PAD<id>]",
 * type UNUSED), token_type (added special tokens CONTROL, other added
 * tokens USER_DEFINED, the rest NORMAL), merges as "left right" strings.
 * tokenizer.ggml.pre names the pre-tokenizer: llama.cpp recognises it by a
 * hash of a test tokenization; here the tokenizer.json's Split regex is
 * matched against the regexes llmkit knows for each name ("gpt-2" when the
 * ByteLevel step does the splitting itself).
 *
 * SentencePiece-style vocabularies (an HF tokenizer.json BPE with
 * byte_fallback, as Llama 2 / Mistral / TinyLlama ship; a llama2.c
 * tokenizer.bin) are written as tokenizer.ggml.model "llama": tokens with
 * U+2581 for spaces, scores, token_type (<0xNN> BYTE, <unk> UNKNOWN, added
 * special tokens CONTROL), the unk id, add_bos_token and add_space_prefix
 * (bos/eos ids come from the model's config, as for every kind). llama.cpp
 * merges SentencePiece pieces by score, highest first; HF's tokenizer.json
 * holds ranked merges instead, so a piece that a merge makes scores -(rank
 * of its first merge), which orders the merges the same way (HF's converter
 * ranked them by the SentencePiece score to begin with).
 *
 * WordPiece tokenizer.json files become llama.cpp's "bert" vocabulary
 * (word starts marked with U+2581, "##" continuations bare) and Unigram
 * ones its "t5" vocabulary (scores, SentencePiece's precompiled charsmap,
 * add_space_prefix, remove_extra_whitespaces), with the special ids and
 * add_bos/add_eos/add_sep flags gguf-py's SpecialVocab derives from
 * tokenizer_config.json and the post-processor:
 * gguf_meta_wordpiece_unigram.c and gguf_meta_special_vocab.c. A
 * pipeline those GGUF vocabularies cannot express (a cased WordPiece, a
 * Unigram with another normalizer) is refused rather than written wrong.
 * The chat template and add_bos_token come from tokenizer_config.json. */
#include "format/gguf_meta_write.h"
#include "format/gguf_meta_tokenizer_hf.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/mmap.h"
#include "tokenizer/tokenizer.h"

#define MAX_JSON ((size_t)1 << 30)

static lk_status write_ids(lk_gguf_writer *w, const lk_hparams *hp) {
    lk_status st = LK_OK;
    if (hp->bos_id >= 0) st = lk_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)hp->bos_id);
    if (st == LK_OK && hp->n_eos > 0)
        st = lk_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)hp->eos_ids[0]);
    if (st == LK_OK && hp->pad_id >= 0)
        st = lk_gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)hp->pad_id);
    return st;
}

static cJSON *read_json(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = NULL;
    size_t len = 0;
    lk_error e;
    if (lk_read_file(path, MAX_JSON, &text, &len, &e) != LK_OK) return NULL;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    return j;
}

/* The Split regex of a pre_tokenizer (itself, or inside a Sequence). */
static const char *split_regex(const cJSON *pre) {
    if (!cJSON_IsObject(pre)) return NULL;
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pre, "type"));
    if (type && strcmp(type, "Split") == 0) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(pre, "pattern");
        return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pat, "Regex"));
    }
    if (type && strcmp(type, "Sequence") == 0) {
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(pre, "pretokenizers")) {
            const char *r = split_regex(p);
            if (r) return r;
        }
    }
    return NULL;
}

static const char *pre_name(const cJSON *root) {
    const char *re = split_regex(cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"));
    if (!re) return "gpt-2"; /* ByteLevel with its own (GPT-2) regex */
    static const char *const names[] = {"llama-bpe", "qwen2", "gpt-2", "starcoder", "falcon",
                                        "deepseek-llm", "default"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *const *pats;
        int n = lk_pretok_patterns_for(names[i], &pats);
        if (n == 1 && strcmp(pats[0], re) == 0) return names[i];
    }
    return NULL;
}

static lk_status write_bpe(lk_gguf_writer *w, const cJSON *root, int32_t n_vocab, const char *path,
                           lk_error *err) {
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    const char *pre = pre_name(root);
    if (!pre)
        return lk_error_set(err, LK_ERR_UNSUPPORTED,
                            "%s: the tokenizer.json pre-tokenizer regex matches no "
                            "tokenizer.ggml.pre llmkit knows", path);
    /* Vocabulary size: the model's rows, or more when the tokenizer has more ids. */
    int64_t n = n_vocab;
    const cJSON *it;
    cJSON_ArrayForEach(it, vocab) if (cJSON_IsNumber(it) && it->valuedouble >= n) n = (int64_t)it->valuedouble + 1;
    cJSON_ArrayForEach(it, added) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        if (cJSON_IsNumber(id) && id->valuedouble >= n) n = (int64_t)id->valuedouble + 1;
    }
    if (n <= 0 || n > (1 << 24))
        return lk_error_set(err, LK_ERR_FORMAT, "%s: %lld tokens", path, (long long)n);
    const char **tokens = calloc((size_t)n, sizeof *tokens);
    int32_t *types = calloc((size_t)n, sizeof *types);
    char **pads = calloc((size_t)n, sizeof *pads);
    int64_t n_merges = cJSON_GetArraySize(merges);
    char **merge_strs = calloc((size_t)(n_merges ? n_merges : 1), sizeof *merge_strs);
    lk_status st = LK_OK;
    if (!tokens || !types || !pads || !merge_strs) {
        st = lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    cJSON_ArrayForEach(it, vocab) {
        if (!cJSON_IsNumber(it) || it->valuedouble < 0) continue;
        tokens[(int64_t)it->valuedouble] = it->string;
        types[(int64_t)it->valuedouble] = LK_TOKEN_NORMAL;
    }
    cJSON_ArrayForEach(it, added) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        const char *content = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "content"));
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || !content) continue;
        tokens[(int64_t)id->valuedouble] = content;
        types[(int64_t)id->valuedouble] =
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "special")) ? LK_TOKEN_CONTROL
                                                                          : LK_TOKEN_USER_DEFINED;
    }
    for (int64_t i = 0; i < n; i++) {
        if (tokens[i]) continue;
        pads[i] = malloc(32);
        if (!pads[i]) {
            st = lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        snprintf(pads[i], 32, "[PAD%lld]", (long long)i);
        tokens[i] = pads[i];
        types[i] = LK_TOKEN_UNUSED;
    }
    int64_t k = 0;
    cJSON_ArrayForEach(it, merges) {
        if (cJSON_IsString(it)) {
            merge_strs[k] = strdup(it->valuestring);
        } else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) == 2) {
            const char *a = cJSON_GetStringValue(cJSON_GetArrayItem(it, 0));
            const char *b = cJSON_GetStringValue(cJSON_GetArrayItem(it, 1));
            if (!a || !b) continue;
            merge_strs[k] = malloc(strlen(a) + strlen(b) + 2);
            if (merge_strs[k]) sprintf(merge_strs[k], "%s %s", a, b);
        } else {
            continue;
        }
        if (!merge_strs[k]) {
            st = lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        k++;
    }
    if ((st = lk_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2")) ||
        (st = lk_gguf_writer_set_str(w, "tokenizer.ggml.pre", pre)) ||
        (st = lk_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", tokens, (uint64_t)n)) ||
        (st = lk_gguf_writer_set_num_array(w, "tokenizer.ggml.token_type", LK_GGUF_INT32, types,
                                           (uint64_t)n)) ||
        (st = lk_gguf_writer_set_str_array(w, "tokenizer.ggml.merges",
                                           (const char *const *)merge_strs, (uint64_t)k)))
        st = lk_error_set(err, st, "%s: cannot write the vocabulary", path);
done:
    for (int64_t i = 0; pads && i < n; i++) free(pads[i]);
    for (int64_t i = 0; merge_strs && i < n_merges; i++) free(merge_strs[i]);
    free(pads);
    free(merge_strs);
    free((void *)tokens);
    free(types);
    return st;
}

/* Piece i with llama2.c's plain spaces turned back into U+2581; a pointer
 * into t, or *owned when it had to be rewritten. NULL when out of memory. */
static const char *spm_piece(const lk_tokenizer *t, int32_t i, char **owned) {
    const char *s = t->text + t->off[i];
    *owned = NULL;
    if (!t->spm_raw_spaces || !memchr(s, ' ', t->len[i])) return s;
    char *o = malloc(3 * (size_t)t->len[i] + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (uint32_t j = 0; j < t->len[i]; j++) {
        if (s[j] == ' ') {
            memcpy(o + k, "\xe2\x96\x81", 3);
            k += 3;
        } else {
            o[k++] = s[j];
        }
    }
    o[k] = '\0';
    return *owned = o;
}

/* A SentencePiece-style tokenizer: llama.cpp's "llama" model. */
static bool is_spm_like(const lk_tokenizer *t) {
    return t->model == LK_TOKMODEL_SPM || (t->model == LK_TOKMODEL_BPE && t->byte_fallback);
}

/* Does the tokenizer put a space marker before the text? llama2.c's does
 * (add_space_prefix); an HF one with a Prepend("\u2581") normalizer or a
 * Metaspace pre-tokenizer that prepends. */
static bool prepends_space(const lk_tokenizer *t) {
    if (t->model == LK_TOKMODEL_SPM) return t->add_space_prefix;
    for (int i = 0; i < t->n_norm; i++)
        if (t->norm[i].kind == LK_NORM_PREPEND && t->norm[i].content &&
            strcmp(t->norm[i].content, "\xe2\x96\x81") == 0)
            return true;
    for (int i = 0; i < t->n_pretok; i++)
        if (t->pretok[i].kind == LK_PRE_METASPACE && t->pretok[i].prepend != 0) return true;
    return false;
}

/* Does add_special put BOS first? */
static bool adds_bos(const lk_tokenizer *t) {
    return t->bos >= 0 && t->n_prefix > 0 && t->prefix[0] == t->bos;
}

static lk_status write_spm(lk_gguf_writer *w, const lk_tokenizer *t, int32_t n_vocab, bool add_bos,
                           const char *path, lk_error *err) {
    int64_t n = n_vocab > t->n_vocab ? n_vocab : t->n_vocab;
    const char **tokens = calloc((size_t)n, sizeof *tokens);
    char **owned = calloc((size_t)n, sizeof *owned);
    float *scores = calloc((size_t)n, sizeof *scores);
    int32_t *types = calloc((size_t)n, sizeof *types);
    int32_t *first_rank = malloc((size_t)n * sizeof *first_rank);
    lk_status st = LK_OK;
    if (!tokens || !owned || !scores || !types || !first_rank) {
        st = lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int64_t i = 0; i < n; i++) first_rank[i] = -1;
    if (t->model == LK_TOKMODEL_BPE && t->merges) {
        for (uint32_t k = 0; k <= t->merge_mask; k++) {
            const struct lk_merge *m = &t->merges[k];
            if (m->key == UINT64_MAX || m->result < 0 || m->result >= n) continue;
            if (first_rank[m->result] < 0 || m->rank < first_rank[m->result])
                first_rank[m->result] = m->rank;
        }
    }
    for (int64_t i = 0; i < n; i++) {
        if (i >= t->n_vocab) { /* rows past the vocabulary, as convert_hf_to_gguf.py pads */
            owned[i] = malloc(32);
            if (!owned[i]) {
                st = lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
                goto done;
            }
            snprintf(owned[i], 32, "[PAD%lld]", (long long)i);
            tokens[i] = owned[i];
            scores[i] = -1000.0f;
            types[i] = LK_TOKEN_UNUSED;
            continue;
        }
        tokens[i] = spm_piece(t, (int32_t)i, &owned[i]);
        if (!tokens[i]) {
            st = lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        types[i] = i == t->unk ? LK_TOKEN_UNKNOWN : t->type[i];
        if (t->model == LK_TOKMODEL_SPM) scores[i] = t->score[i];
        else if (first_rank[i] >= 0) scores[i] = -(float)first_rank[i];
        else if (types[i] == LK_TOKEN_NORMAL) scores[i] = -(float)(t->n_merges + i); /* never a merge result */
        else scores[i] = 0.0f;
    }
    if ((st = lk_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama")) ||
        (st = lk_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", tokens, (uint64_t)n)) ||
        (st = lk_gguf_writer_set_num_array(w, "tokenizer.ggml.scores", LK_GGUF_FLOAT32, scores,
                                           (uint64_t)n)) ||
        (st = lk_gguf_writer_set_num_array(w, "tokenizer.ggml.token_type", LK_GGUF_INT32, types,
                                           (uint64_t)n)) ||
        (st = lk_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", add_bos)) ||
        (st = lk_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", prepends_space(t))) ||
        /* bos/eos: write_ids, from the model's config, as for BPE */
        (t->unk >= 0 && (st = lk_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", (uint32_t)t->unk))))
        st = lk_error_set(err, st, "%s: cannot write the vocabulary", path);
done:
    for (int64_t i = 0; owned && i < n; i++) free(owned[i]);
    free(owned);
    free((void *)tokens);
    free(scores);
    free(types);
    free(first_rank);
    return st;
}

lk_status lk_gguf_meta_write_tokenizer_file(lk_gguf_writer *w, const char *path, int32_t n_vocab,
                                            lk_error *err) {
    lk_tokenizer *t = NULL;
    lk_status st = lk_tokenizer_load(path, &t, err);
    if (st != LK_OK) return st;
    if (is_spm_like(t))
        st = write_spm(w, t, n_vocab, adds_bos(t), path, err);
    else
        st = lk_error_set(err, LK_ERR_UNSUPPORTED,
                          "%s: only SentencePiece-style tokenizers can be added to a converted "
                          "model so far", path);
    lk_tokenizer_free(t);
    return st;
}

/* tokenizer_config.json: add_bos_token and chat_template (a string, or a
 * list of {name, template} of which "default" is taken). */
static lk_status write_config(lk_gguf_writer *w, const char *dir) {
    cJSON *cfg = read_json(dir, "tokenizer_config.json");
    if (!cfg) return LK_OK;
    lk_status st = LK_OK;
    const cJSON *bos = cJSON_GetObjectItemCaseSensitive(cfg, "add_bos_token");
    if (cJSON_IsBool(bos)) st = lk_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", cJSON_IsTrue(bos));
    const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(cfg, "chat_template");
    const char *text = cJSON_GetStringValue(tpl);
    if (cJSON_IsArray(tpl)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, tpl) {
            const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
            if (name && strcmp(name, "default") == 0)
                text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "template"));
        }
    }
    if (st == LK_OK && text) st = lk_gguf_writer_set_str(w, "tokenizer.chat_template", text);
    cJSON_Delete(cfg);
    return st;
}

lk_status lk_gguf_meta_write_hf_tokenizer(lk_gguf_writer *w, const char *dir, int32_t n_vocab,
                                          lk_error *err) {
    cJSON *root = read_json(dir, "tokenizer.json");
    if (!root) return LK_OK; /* no tokenizer.json: nothing to write */
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(model, "type"));
    if (!type) /* older files: the kind shows in the fields, as load_hf.c reads them */
        type = cJSON_GetObjectItemCaseSensitive(model, "merges") ? "BPE"
               : cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(model, "vocab")) ? "Unigram"
               : cJSON_GetObjectItemCaseSensitive(model, "continuing_subword_prefix") ? "WordPiece" : "";
    lk_status st = LK_OK;
    bool bpe = strcmp(type, "BPE") == 0;
    bool byte_fallback = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "byte_fallback"));
    if (bpe && !byte_fallback) st = write_bpe(w, root, n_vocab, dir, err);
    if (strcmp(type, "WordPiece") == 0 || strcmp(type, "Unigram") == 0) {
        cJSON *cfg = read_json(dir, "tokenizer_config.json"), *config = read_json(dir, "config.json");
        if (type[0] == 'W') st = lk_gguf_meta_write_wordpiece(w, root, cfg, config, n_vocab, dir, err);
        else st = lk_gguf_meta_write_unigram(w, root, cfg, n_vocab, dir, err);
        cJSON_Delete(cfg);
        cJSON_Delete(config);
    }
    cJSON_Delete(root);
    if (bpe && byte_fallback) st = lk_gguf_meta_write_tokenizer_file(w, dir, n_vocab, err);
    if (st == LK_OK && (st = write_config(w, dir)))
        return lk_error_set(err, st, "%s: cannot write the chat template", dir);
    return st;
}

lk_status lk_gguf_meta_write_tokenizer(lk_gguf_writer *w, const lk_model_file *mf, lk_error *err) {
    const lk_hparams *hp = lk_model_file_hparams(mf);
    lk_status st = write_ids(w, hp);
    if (st != LK_OK)
        return lk_error_set(err, st, "%s: cannot write the tokenizer ids", lk_model_file_path(mf));
    if (lk_model_file_format(mf) != LK_FORMAT_HF_DIR) return LK_OK;
    return lk_gguf_meta_write_hf_tokenizer(w, lk_model_file_path(mf), hp->n_vocab, err);
}
