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
 * ByteLevel step does the splitting itself). Other tokenizer kinds
 * (SentencePiece-style, WordPiece, Unigram) are not written yet: only the
 * special ids are. The chat template and add_bos_token come from
 * tokenizer_config.json. */
#include "format/gguf_meta_write.h"

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
    lk_status st = LK_OK;
    if (type && strcmp(type, "BPE") == 0 &&
        !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "byte_fallback")))
        st = write_bpe(w, root, n_vocab, dir, err);
    cJSON_Delete(root);
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
