/* Special-token ids and add_*_token flags of a converted vocabulary, found
 * the way gguf-py's SpecialVocab finds them (convert_hf_to_gguf.py uses it
 * for every vocabulary kind):
 *
 * - tokenizer_config.json names the tokens (bos_token, eos_token, unk_token,
 *   sep_token, pad_token, cls_token, mask_token: a string or {content}); an
 *   id is the first tokenizer.json added token with that content. A missing
 *   bos_token falls back to cls_token, a missing eos_token to sep_token (so
 *   BERT's [CLS] / [SEP] are its bos / eos).
 * - The tokenizer.json post-processor says what encode adds:
 *   RobertaProcessing adds bos, eos and sep; a TemplateProcessing "single"
 *   template adds bos when it starts with the bos (or cls) token and eos
 *   when it ends with a special token (which becomes the eos; the one
 *   tokenizer_config named moves to eot). Its "pair" template sets add_sep
 *   when a separator stands between A and B.
 * - tokenizer_config.json's add_bos_token / add_eos_token / add_sep_token
 *   override the post-processor.
 *
 * Without a tokenizer_config.json no id is taken from here (config.json's,
 * written before this, stay), as in SpecialVocab. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "format/gguf_meta_write.h"

enum { SV_BOS, SV_EOS, SV_UNK, SV_SEP, SV_PAD, SV_CLS, SV_MASK, SV_EOT, SV_EOM, SV_N };

static const char *const sv_names[SV_N] = {"bos", "eos", "unk", "sep", "pad", "cls", "mask", "eot", "eom"};
static const char *const sv_keys[SV_N] = {
    "tokenizer.ggml.bos_token_id",     "tokenizer.ggml.eos_token_id",     "tokenizer.ggml.unknown_token_id",
    "tokenizer.ggml.seperator_token_id", /* sic: llama.cpp's spelling */
    "tokenizer.ggml.padding_token_id", "tokenizer.ggml.cls_token_id",     "tokenizer.ggml.mask_token_id",
    "tokenizer.ggml.eot_token_id",     "tokenizer.ggml.eom_token_id"};

/* add_<typ>_token flags llama.cpp has keys for */
enum { ADD_BOS, ADD_EOS, ADD_SEP, ADD_N };
static const char *const add_keys[ADD_N] = {"tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token",
                                           "tokenizer.ggml.add_sep_token"};

typedef struct {
    const char *content[SV_N]; /* token text per kind (into the JSON), NULL: none */
    int add[ADD_N];            /* -1 unset, 0 / 1 */
} special_vocab;

static bool same(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* A tokenizer_config.json token entry: "text" or {"content": "text"}. */
static const char *entry_content(const cJSON *e) {
    if (cJSON_IsString(e)) return e->valuestring;
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "content"));
}

/* The SpecialToken id of one template item, or NULL. */
static const char *special_of(const cJSON *item) {
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(item, "SpecialToken");
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sp, "id"));
}

static const char *sequence_of(const cJSON *item) {
    const cJSON *sq = cJSON_GetObjectItemCaseSensitive(item, "Sequence");
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sq, "id"));
}

/* TemplateProcessing: what "single" and "pair" add. */
static void template_processing(special_vocab *sv, const cJSON *proc, bool have_cfg) {
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(proc, "single");
    const cJSON *pair = cJSON_GetObjectItemCaseSensitive(proc, "pair");
    int ns = cJSON_GetArraySize(single);
    const char *first = NULL, *last = NULL;
    if (ns > 1) {
        first = special_of(cJSON_GetArrayItem(single, 0));
        if (first) {
            if (!have_cfg) sv->content[SV_BOS] = first;
            sv->add[ADD_BOS] = same(first, sv->content[SV_BOS]) || same(first, sv->content[SV_CLS]);
        }
        last = special_of(cJSON_GetArrayItem(single, ns - 1));
        if (last) {
            if (!have_cfg) {
                sv->content[SV_EOS] = last;
            } else if (!same(last, sv->content[SV_EOS])) {
                /* the named eos is kept as eot (or eom) and the template's last token becomes eos */
                if (!sv->content[SV_EOT]) sv->content[SV_EOT] = sv->content[SV_EOS];
                else if (!sv->content[SV_EOM]) sv->content[SV_EOM] = sv->content[SV_EOS];
                sv->content[SV_EOS] = last;
            }
            sv->add[ADD_EOS] = 1;
        }
    }
    int np = cJSON_GetArraySize(pair);
    if (np == 0) return;
    int start = first && same(special_of(cJSON_GetArrayItem(pair, 0)), first) ? 1 : 0;
    int stop = last && same(special_of(cJSON_GetArrayItem(pair, np - 1)), last) ? np - 1 : np;
    if (stop - start < 3) return; /* no A [sep] B */
    if (!same(sequence_of(cJSON_GetArrayItem(pair, start)), "A") ||
        !same(sequence_of(cJSON_GetArrayItem(pair, stop - 1)), "B"))
        return;
    const char *sep = sv->content[SV_SEP], *eos = sv->content[SV_EOS];
    bool add_sep = false;
    const char *mid0 = special_of(cJSON_GetArrayItem(pair, start + 1));
    if (mid0 && (same(mid0, sep) || same(mid0, eos)) && !last) add_sep = true;
    if (stop - start - 2 == 2) {
        const char *mid1 = special_of(cJSON_GetArrayItem(pair, start + 2));
        if (mid1 && (same(mid1, sep) || same(mid1, eos))) add_sep = true;
    }
    sv->add[ADD_SEP] = add_sep;
    if (add_sep && !sep && have_cfg) sv->content[SV_SEP] = eos;
}

static void post_processor(special_vocab *sv, const cJSON *pp, bool have_cfg) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(pp, "processors");
    const cJSON *one[1] = {pp};
    int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : (cJSON_IsObject(pp) ? 1 : 0);
    for (int i = 0; i < n; i++) {
        const cJSON *proc = cJSON_IsArray(list) ? cJSON_GetArrayItem(list, i) : one[0];
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(proc, "type"));
        if (same(type, "RobertaProcessing")) {
            sv->add[ADD_BOS] = sv->add[ADD_EOS] = sv->add[ADD_SEP] = 1;
            if (!sv->content[SV_CLS] && have_cfg) {
                const char *c = cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(proc, "cls"), 0));
                sv->content[SV_CLS] = c ? c : sv->content[SV_BOS];
            }
            if (!sv->content[SV_SEP] && have_cfg) {
                const char *s = cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(proc, "sep"), 0));
                sv->content[SV_SEP] = s ? s : sv->content[SV_EOS];
            }
        } else if (same(type, "TemplateProcessing")) {
            template_processing(sv, proc, have_cfg);
        }
    }
}

lk_status lk_gguf_meta_write_special_vocab(lk_gguf_writer *w, const cJSON *tokenizer_json,
                                           const cJSON *tokenizer_config, int64_t n_vocab, const char *path,
                                           lk_error *err) {
    special_vocab sv;
    memset(&sv, 0, sizeof sv);
    for (int i = 0; i < ADD_N; i++) sv.add[i] = -1;
    const cJSON *cfg = cJSON_IsObject(tokenizer_config) ? tokenizer_config : NULL;
    char key[32];
    for (int i = 0; cfg && i < SV_EOT; i++) { /* eot / eom: only as moved eos */
        snprintf(key, sizeof key, "%s_token", sv_names[i]);
        sv.content[i] = entry_content(cJSON_GetObjectItemCaseSensitive(cfg, key));
    }
    if (cfg && !sv.content[SV_BOS] && sv.content[SV_CLS]) sv.content[SV_BOS] = sv.content[SV_CLS];
    if (cfg && !sv.content[SV_EOS] && sv.content[SV_SEP]) sv.content[SV_EOS] = sv.content[SV_SEP];
    post_processor(&sv, cJSON_GetObjectItemCaseSensitive(tokenizer_json, "post_processor"), cfg != NULL);
    for (int i = 0; cfg && i < ADD_N; i++) {
        static const char *const names[ADD_N] = {"add_bos_token", "add_eos_token", "add_sep_token"};
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(cfg, names[i]);
        if (cJSON_IsBool(b)) sv.add[i] = cJSON_IsTrue(b);
    }
    lk_status st = LK_OK;
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(tokenizer_json, "added_tokens");
    for (int i = 0; cfg && st == LK_OK && i < SV_N; i++) {
        if (!sv.content[i]) continue;
        const cJSON *a;
        cJSON_ArrayForEach(a, added) {
            const char *content = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "content"));
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
            if (!same(content, sv.content[i]) || !cJSON_IsNumber(id)) continue;
            if (id->valuedouble >= 0 && id->valuedouble < (double)n_vocab)
                st = lk_gguf_writer_set_u32(w, sv_keys[i], (uint32_t)id->valuedouble);
            break; /* the first match only */
        }
    }
    for (int i = 0; st == LK_OK && i < ADD_N; i++)
        if (sv.add[i] >= 0) st = lk_gguf_writer_set_bool(w, add_keys[i], sv.add[i] == 1);
    if (st != LK_OK) return lk_error_set(err, st, "%s: cannot write the special token ids", path);
    return LK_OK;
}
