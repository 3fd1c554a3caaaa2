/* Hugging Face tokenizer.json (+ tokenizer_config.json) loading.
 *
 * Supported: models BPE (byte-level or SentencePiece-style with byte
 * fallback) and WordPiece; normalizers Sequence, NFC/NFD/NFKC/NFKD,
 * Lowercase, StripAccents, Strip, Replace, Prepend, BertNormalizer;
 * pre-tokenizers Sequence, Split, ByteLevel, Metaspace, Digits,
 * Punctuation, Whitespace, WhitespaceSplit, BertPreTokenizer;
 * post-processors TemplateProcessing, BertProcessing, RobertaProcessing
 * (what add_special puts around the text); decoders ByteLevel, Replace,
 * ByteFallback, Fuse, Strip, Metaspace, WordPiece. Anything else is an
 * error naming the key, never a silent approximation.
 * tokenizer_config.json's add_bos_token / add_eos_token override the
 * post-processor, as transformers' fast Llama tokenizers do. */
#include <cjson/cJSON.h>
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

typedef struct {
    const char *name;
    lk_error *err;
} ctx;

#define FAIL(code, ...) (lk_error_set(c->err, code, __VA_ARGS__))

static const char *jstr(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool jbool(const cJSON *o, const char *key, bool dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    return dflt;
}

static const cJSON *jget(const cJSON *o, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* The regex a {"String": s} or {"Regex": r} pattern object stands for. */
static char *pattern_regex(ctx *c, const cJSON *pat, const char *where) {
    const char *r = jstr(pat, "Regex");
    if (r) return strdup(r);
    const char *s = jstr(pat, "String");
    if (!s) {
        FAIL(LK_ERR_FORMAT, "%s: %s.pattern needs a \"String\" or \"Regex\"", c->name, where);
        return NULL;
    }
    /* Quote every character outside [A-Za-z0-9] so the literal stays literal. */
    size_t n = strlen(s);
    char *q = malloc(2 * n + 1);
    if (!q) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x80 && !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
            q[k++] = '\\';
        q[k++] = s[i];
    }
    q[k] = '\0';
    return q;
}

/* Standard base64 (with or without padding); NULL on a bad character. */
static char *base64_decode(const char *in, size_t *out_len) {
    size_t n = strlen(in);
    char *out = malloc(n / 4 * 3 + 4);
    if (!out) return NULL;
    uint32_t acc = 0;
    int bits = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = in[i];
        int v;
        if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
        else if (ch == '+') v = 62;
        else if (ch == '/') v = 63;
        else if (ch == '=') break;
        else {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[k++] = (char)((acc >> bits) & 0xFF);
        }
    }
    *out_len = k;
    return out;
}

static lk_status add_norm(ctx *c, lk_tokenizer *t, lk_norm_step st) {
    lk_norm_step *v = realloc(t->norm, (size_t)(t->n_norm + 1) * sizeof *v);
    if (!v) return FAIL(LK_ERR_NOMEM, "%s: out of memory", c->name);
    t->norm = v;
    v[t->n_norm++] = st;
    return LK_OK;
}

static lk_status parse_normalizer(ctx *c, lk_tokenizer *t, const cJSON *n, const char *where) {
    if (!n || cJSON_IsNull(n)) return LK_OK;
    const char *type = jstr(n, "type");
    if (!type) return FAIL(LK_ERR_FORMAT, "%s: %s has no \"type\"", c->name, where);
    lk_norm_step st = {0};
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *list = jget(n, "normalizers");
        if (!cJSON_IsArray(list))
            return FAIL(LK_ERR_FORMAT, "%s: %s.normalizers must be an array", c->name, where);
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, list) {
            char w[128];
            snprintf(w, sizeof w, "%s.normalizers[%d]", where, i++);
            lk_status s = parse_normalizer(c, t, e, w);
            if (s != LK_OK) return s;
        }
        return LK_OK;
    }
    if (strcmp(type, "NFC") == 0) st.kind = LK_NORM_NFC;
    else if (strcmp(type, "NFD") == 0) st.kind = LK_NORM_NFD;
    else if (strcmp(type, "NFKC") == 0) st.kind = LK_NORM_NFKC;
    else if (strcmp(type, "NFKD") == 0) st.kind = LK_NORM_NFKD;
    else if (strcmp(type, "Lowercase") == 0) st.kind = LK_NORM_LOWER;
    else if (strcmp(type, "StripAccents") == 0) st.kind = LK_NORM_STRIP_ACCENTS;
    else if (strcmp(type, "Strip") == 0) {
        st.kind = LK_NORM_STRIP;
        st.left = jbool(n, "strip_left", true);
        st.right = jbool(n, "strip_right", true);
    } else if (strcmp(type, "Prepend") == 0) {
        const char *p = jstr(n, "prepend");
        if (!p) return FAIL(LK_ERR_FORMAT, "%s: %s.prepend must be a string", c->name, where);
        st.kind = LK_NORM_PREPEND;
        st.content = strdup(p);
        st.content_len = strlen(p);
    } else if (strcmp(type, "Replace") == 0) {
        const char *content = jstr(n, "content");
        const cJSON *pat = jget(n, "pattern");
        if (!content || !cJSON_IsObject(pat))
            return FAIL(LK_ERR_FORMAT, "%s: %s needs \"pattern\" and \"content\"", c->name, where);
        st.kind = LK_NORM_REPLACE;
        st.content = strdup(content);
        st.content_len = strlen(content);
        if (jstr(pat, "String")) {
            st.pattern = strdup(jstr(pat, "String"));
            st.pattern_len = strlen(st.pattern);
        } else {
            char *re = pattern_regex(c, pat, where);
            if (!re) {
                free(st.content);
                return c->err ? c->err->code : LK_ERR_FORMAT;
            }
            st.re = lk_regex_compile(re, strlen(re), c->err);
            free(re);
            if (!st.re) {
                free(st.content);
                return lk_error_wrap(c->err, "%s: %s.pattern", c->name, where);
            }
        }
    } else if (strcmp(type, "Precompiled") == 0) {
        const char *b64 = jstr(n, "precompiled_charsmap");
        if (!b64) return FAIL(LK_ERR_FORMAT, "%s: %s.precompiled_charsmap must be a base64 string", c->name, where);
        if (!*b64) return LK_OK; /* an empty map normalizes nothing */
        st.kind = LK_NORM_PRECOMPILED;
        st.content = base64_decode(b64, &st.content_len);
        if (!st.content || !lk_precompiled_init(&st)) {
            free(st.content);
            return FAIL(LK_ERR_FORMAT, "%s: %s.precompiled_charsmap is not a valid SentencePiece charsmap", c->name, where);
        }
    } else if (strcmp(type, "BertNormalizer") == 0) {
        bool lower = jbool(n, "lowercase", true);
        const cJSON *sa = jget(n, "strip_accents");
        bool strip = cJSON_IsBool(sa) ? cJSON_IsTrue(sa) : lower;
        lk_status s = LK_OK;
        if (jbool(n, "clean_text", true)) s = add_norm(c, t, (lk_norm_step){.kind = LK_NORM_BERT_CLEAN});
        if (s == LK_OK && jbool(n, "handle_chinese_chars", true))
            s = add_norm(c, t, (lk_norm_step){.kind = LK_NORM_BERT_CHINESE});
        if (s == LK_OK && strip) s = add_norm(c, t, (lk_norm_step){.kind = LK_NORM_NFD});
        if (s == LK_OK && strip) s = add_norm(c, t, (lk_norm_step){.kind = LK_NORM_STRIP_ACCENTS});
        if (s == LK_OK && lower) s = add_norm(c, t, (lk_norm_step){.kind = LK_NORM_LOWER});
        return s;
    } else {
        return FAIL(LK_ERR_UNSUPPORTED, "%s: %s.type \"%s\" is not supported", c->name, where, type);
    }
    lk_status s = add_norm(c, t, st);
    if (s != LK_OK) {
        free(st.content);
        free(st.pattern);
    }
    return s;
}

static lk_status parse_behavior(ctx *c, const cJSON *n, const char *where, lk_split_behavior *b) {
    const char *s = jstr(n, "behavior");
    if (!s) return FAIL(LK_ERR_FORMAT, "%s: %s.behavior is missing", c->name, where);
    if (strcmp(s, "Isolated") == 0) *b = LK_SPLIT_ISOLATED;
    else if (strcmp(s, "Removed") == 0) *b = LK_SPLIT_REMOVED;
    else if (strcmp(s, "MergedWithPrevious") == 0) *b = LK_SPLIT_MERGED_PREV;
    else if (strcmp(s, "MergedWithNext") == 0) *b = LK_SPLIT_MERGED_NEXT;
    else if (strcmp(s, "Contiguous") == 0) *b = LK_SPLIT_CONTIGUOUS;
    else return FAIL(LK_ERR_UNSUPPORTED, "%s: %s.behavior \"%s\" is not supported", c->name, where, s);
    return LK_OK;
}

#define GPT2_PATTERN "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
#define PUNCT_CLASS "[\\p{P}!-/:-@\\[-`{-~]"

static lk_status add_regex(ctx *c, lk_tokenizer *t, const char *re, lk_split_behavior b, bool invert,
                           const char *where) {
    lk_status s = lk_pretok_add_regex(t, re, b, invert, c->err);
    if (s != LK_OK) lk_error_wrap(c->err, "%s: %s", c->name, where);
    return s;
}

static lk_status parse_pretok(ctx *c, lk_tokenizer *t, const cJSON *n, const char *where,
                              bool *byte_level) {
    if (!n || cJSON_IsNull(n)) return LK_OK;
    const char *type = jstr(n, "type");
    if (!type) return FAIL(LK_ERR_FORMAT, "%s: %s has no \"type\"", c->name, where);
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *list = jget(n, "pretokenizers");
        if (!cJSON_IsArray(list))
            return FAIL(LK_ERR_FORMAT, "%s: %s.pretokenizers must be an array", c->name, where);
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, list) {
            char w[128];
            snprintf(w, sizeof w, "%s.pretokenizers[%d]", where, i++);
            lk_status s = parse_pretok(c, t, e, w, byte_level);
            if (s != LK_OK) return s;
        }
        return LK_OK;
    }
    if (strcmp(type, "Split") == 0) {
        lk_split_behavior b;
        lk_status s = parse_behavior(c, n, where, &b);
        if (s != LK_OK) return s;
        const cJSON *pat = jget(n, "pattern");
        if (!cJSON_IsObject(pat)) return FAIL(LK_ERR_FORMAT, "%s: %s.pattern is missing", c->name, where);
        char *re = pattern_regex(c, pat, where);
        if (!re) return c->err ? c->err->code : LK_ERR_FORMAT;
        s = add_regex(c, t, re, b, jbool(n, "invert", false), where);
        free(re);
        return s;
    }
    if (strcmp(type, "ByteLevel") == 0) {
        if (jbool(n, "use_regex", true)) {
            lk_status s = add_regex(c, t, GPT2_PATTERN, LK_SPLIT_ISOLATED, false, where);
            if (s != LK_OK) return s;
        }
        lk_pretok_step st = {.kind = LK_PRE_BYTELEVEL, .add_prefix_space = jbool(n, "add_prefix_space", false)};
        *byte_level = true;
        return lk_pretok_add_step(t, &st, c->err);
    }
    if (strcmp(type, "Metaspace") == 0) {
        const char *rep = jstr(n, "replacement");
        if (rep && strcmp(rep, "\xe2\x96\x81") != 0)
            return FAIL(LK_ERR_UNSUPPORTED, "%s: %s.replacement other than U+2581 is not supported", c->name, where);
        lk_pretok_step st = {.kind = LK_PRE_METASPACE, .split = jbool(n, "split", true)};
        const char *scheme = jstr(n, "prepend_scheme");
        if (scheme) st.prepend = strcmp(scheme, "always") == 0 ? 2 : strcmp(scheme, "first") == 0 ? 1 : 0;
        else st.prepend = jbool(n, "add_prefix_space", true) ? 2 : 0;
        t->dec |= LK_DEC_SPACE_MARKER;
        return lk_pretok_add_step(t, &st, c->err);
    }
    if (strcmp(type, "Digits") == 0)
        return add_regex(c, t, jbool(n, "individual_digits", false) ? "\\p{N}" : "\\p{N}+",
                         LK_SPLIT_ISOLATED, false, where);
    if (strcmp(type, "Punctuation") == 0) {
        lk_split_behavior b = LK_SPLIT_ISOLATED;
        if (jget(n, "behavior")) {
            lk_status s = parse_behavior(c, n, where, &b);
            if (s != LK_OK) return s;
        }
        return add_regex(c, t, PUNCT_CLASS, b, false, where);
    }
    if (strcmp(type, "Whitespace") == 0)
        return add_regex(c, t, "\\w+|[^\\w\\s]+", LK_SPLIT_REMOVED, true, where);
    if (strcmp(type, "WhitespaceSplit") == 0)
        return add_regex(c, t, "\\s+", LK_SPLIT_REMOVED, false, where);
    if (strcmp(type, "BertPreTokenizer") == 0) {
        lk_status s = add_regex(c, t, "\\s+", LK_SPLIT_REMOVED, false, where);
        if (s == LK_OK) s = add_regex(c, t, PUNCT_CLASS, LK_SPLIT_ISOLATED, false, where);
        return s;
    }
    return FAIL(LK_ERR_UNSUPPORTED, "%s: %s.type \"%s\" is not supported", c->name, where, type);
}

static lk_status parse_decoder(ctx *c, lk_tokenizer *t, const cJSON *n, const char *where) {
    if (!n || cJSON_IsNull(n)) return LK_OK;
    const char *type = jstr(n, "type");
    if (!type) return FAIL(LK_ERR_FORMAT, "%s: %s has no \"type\"", c->name, where);
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *list = jget(n, "decoders");
        if (!cJSON_IsArray(list)) return FAIL(LK_ERR_FORMAT, "%s: %s.decoders must be an array", c->name, where);
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, list) {
            char w[128];
            snprintf(w, sizeof w, "%s.decoders[%d]", where, i++);
            lk_status s = parse_decoder(c, t, e, w);
            if (s != LK_OK) return s;
        }
        return LK_OK;
    }
    if (strcmp(type, "ByteLevel") == 0) t->dec |= LK_DEC_BYTELEVEL;
    else if (strcmp(type, "ByteFallback") == 0) t->dec |= LK_DEC_BYTE_FALLBACK;
    else if (strcmp(type, "Fuse") == 0) {
    } else if (strcmp(type, "Replace") == 0) {
        const cJSON *pat = jget(n, "pattern");
        const char *from = pat ? jstr(pat, "String") : NULL, *to = jstr(n, "content");
        if (from && to && strcmp(from, "\xe2\x96\x81") == 0 && strcmp(to, " ") == 0) t->dec |= LK_DEC_SPACE_MARKER;
        else return FAIL(LK_ERR_UNSUPPORTED, "%s: %s: only Replace U+2581 -> ' ' is supported", c->name, where);
    } else if (strcmp(type, "Strip") == 0) {
        const cJSON *start = jget(n, "start");
        if (cJSON_IsNumber(start) && start->valuedouble >= 1) t->dec |= LK_DEC_STRIP_ONE;
    } else if (strcmp(type, "Metaspace") == 0) {
        t->dec |= LK_DEC_SPACE_MARKER;
        const char *scheme = jstr(n, "prepend_scheme");
        bool prefix = scheme ? strcmp(scheme, "never") != 0 : jbool(n, "add_prefix_space", true);
        if (prefix) t->dec |= LK_DEC_STRIP_ONE;
    } else if (strcmp(type, "WordPiece") == 0) {
        t->dec |= LK_DEC_WORDPIECE;
        if (jbool(n, "cleanup", true)) t->dec |= LK_DEC_CLEANUP;
        const char *p = jstr(n, "prefix");
        if (p && strlen(p) < sizeof t->wp_prefix) strcpy(t->wp_prefix, p);
    } else {
        return FAIL(LK_ERR_UNSUPPORTED, "%s: %s.type \"%s\" is not supported", c->name, where, type);
    }
    return LK_OK;
}

/* ---------------------------------------------------------------- vocabulary */

typedef struct {
    const char *s;
    size_t n;
    float score;
    lk_token_type type;
} slot;

#define MAX_ID (4 * 1024 * 1024) /* the largest vocabularies have ~260k */

/* A JSON number that is a token id: an integer in [0, MAX_ID]. */
static bool json_id(const cJSON *v, int32_t *id) {
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= MAX_ID)) return false;
    *id = (int32_t)v->valuedouble;
    return (double)*id == v->valuedouble;
}

typedef struct {
    slot *v;
    int32_t n, cap; /* ids 0..n-1 seen so far */
} slots_t;

static lk_status set_slot(ctx *c, slots_t *sl, const cJSON *idv, const char *s, float score,
                          lk_token_type type, const char *where) {
    int32_t id;
    if (!json_id(idv, &id))
        return FAIL(LK_ERR_FORMAT, "%s: %s[\"%.64s\"]: the id must be an integer in 0..%d", c->name, where, s, MAX_ID);
    if (id >= sl->cap) { /* grow geometrically: ids mostly arrive in order */
        int32_t cap = sl->cap ? sl->cap : 1024;
        while (cap <= id) cap *= 2;
        slot *v = realloc(sl->v, (size_t)cap * sizeof *v);
        if (!v) return FAIL(LK_ERR_NOMEM, "%s: out of memory", c->name);
        memset(v + sl->cap, 0, (size_t)(cap - sl->cap) * sizeof *v);
        sl->v = v;
        sl->cap = cap;
    }
    if (id >= sl->n) sl->n = id + 1;
    sl->v[id] = (slot){s, strlen(s), score, type};
    return LK_OK;
}

static int32_t special_id(const lk_tokenizer *t, const cJSON *cfg, const char *key) {
    const cJSON *v = jget(cfg, key);
    const char *s = cJSON_IsString(v) ? v->valuestring : (cJSON_IsObject(v) ? jstr(v, "content") : NULL);
    return s ? lk_tok_lookup(t, s, strlen(s)) : -1;
}

static lk_status parse_post(ctx *c, lk_tokenizer *t, const cJSON *n, const char *where) {
    if (!n || cJSON_IsNull(n)) return LK_OK;
    const char *type = jstr(n, "type");
    if (!type) return FAIL(LK_ERR_FORMAT, "%s: %s has no \"type\"", c->name, where);
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *e;
        cJSON_ArrayForEach(e, jget(n, "processors")) {
            lk_status s = parse_post(c, t, e, "post_processor.processors[]");
            if (s != LK_OK) return s;
        }
        return LK_OK;
    }
    if (strcmp(type, "ByteLevel") == 0) return LK_OK;
    if (strcmp(type, "BertProcessing") == 0 || strcmp(type, "RobertaProcessing") == 0) {
        const cJSON *cls = jget(n, "cls"), *sep = jget(n, "sep");
        int32_t ci, si;
        if (!json_id(cJSON_GetArrayItem(cls, 1), &ci) || !json_id(cJSON_GetArrayItem(sep, 1), &si) ||
            ci >= t->n_vocab || si >= t->n_vocab)
            return FAIL(LK_ERR_FORMAT, "%s: %s.cls / .sep must be [token, id] with an id in the vocabulary", c->name, where);
        t->n_prefix = t->n_suffix = 0;
        t->prefix[t->n_prefix++] = ci;
        t->suffix[t->n_suffix++] = si;
        return LK_OK;
    }
    if (strcmp(type, "TemplateProcessing") == 0) {
        const cJSON *single = jget(n, "single"), *sp = jget(n, "special_tokens");
        if (!cJSON_IsArray(single))
            return FAIL(LK_ERR_FORMAT, "%s: %s.single must be an array", c->name, where);
        t->n_prefix = t->n_suffix = 0;
        bool after = false;
        const cJSON *e;
        cJSON_ArrayForEach(e, single) {
            if (jget(e, "Sequence")) {
                after = true;
                continue;
            }
            const cJSON *stok = jget(e, "SpecialToken");
            const char *name = stok ? jstr(stok, "id") : NULL;
            if (!name) return FAIL(LK_ERR_FORMAT, "%s: %s.single[]: expected Sequence or SpecialToken", c->name, where);
            const cJSON *ids = jget(jget(sp, name), "ids");
            if (!cJSON_IsArray(ids))
                return FAIL(LK_ERR_FORMAT, "%s: %s.special_tokens[\"%s\"].ids is missing", c->name, where, name);
            const cJSON *id;
            cJSON_ArrayForEach(id, ids) {
                int32_t v;
                if (!json_id(id, &v) || v >= t->n_vocab)
                    return FAIL(LK_ERR_FORMAT, "%s: %s.special_tokens[\"%s\"].ids: bad id", c->name, where, name);
                if (after && t->n_suffix < 4) t->suffix[t->n_suffix++] = v;
                if (!after && t->n_prefix < 4) t->prefix[t->n_prefix++] = v;
            }
        }
        return LK_OK;
    }
    return FAIL(LK_ERR_UNSUPPORTED, "%s: %s.type \"%s\" is not supported", c->name, where, type);
}

static lk_status build(ctx *c, const cJSON *root, const cJSON *cfg, lk_tokenizer **out) {
    const cJSON *model = jget(root, "model");
    if (!cJSON_IsObject(model)) return FAIL(LK_ERR_FORMAT, "%s: \"model\" is missing or not an object", c->name);
    const char *mtype = jstr(model, "type");
    if (!mtype) /* older files: tell the model by its fields */
        mtype = jget(model, "merges") ? "BPE"
                : cJSON_IsArray(jget(model, "vocab")) ? "Unigram"
                : jget(model, "continuing_subword_prefix") ? "WordPiece" : "?";
    lk_tokmodel kind;
    if (strcmp(mtype, "BPE") == 0) kind = LK_TOKMODEL_BPE;
    else if (strcmp(mtype, "WordPiece") == 0) kind = LK_TOKMODEL_WPM;
    else if (strcmp(mtype, "Unigram") == 0) kind = LK_TOKMODEL_UGM;
    else return FAIL(LK_ERR_UNSUPPORTED, "%s: model.type \"%s\" is not supported (BPE, WordPiece, Unigram)", c->name, mtype);

    const cJSON *vocab = jget(model, "vocab");
    slots_t sl = {0};
    lk_status st = LK_OK;
    const cJSON *e;
    double *uscore = NULL;
    if (kind == LK_TOKMODEL_UGM) {
        /* [[piece, score], ...]: the id is the position */
        if (!cJSON_IsArray(vocab) || cJSON_GetArraySize(vocab) > MAX_ID)
            return FAIL(LK_ERR_FORMAT, "%s: model.vocab must be an array of [piece, score]", c->name);
        uscore = calloc((size_t)cJSON_GetArraySize(vocab) + 1, sizeof *uscore);
        if (!uscore) return FAIL(LK_ERR_NOMEM, "%s: out of memory", c->name);
        int i = 0;
        cJSON_ArrayForEach(e, vocab) {
            const cJSON *piece = cJSON_GetArrayItem(e, 0), *score = cJSON_GetArrayItem(e, 1);
            if (!cJSON_IsString(piece) || !cJSON_IsNumber(score)) {
                st = FAIL(LK_ERR_FORMAT, "%s: model.vocab[%d] must be [piece, score]", c->name, i);
                break;
            }
            cJSON idv = {.type = cJSON_Number, .valuedouble = i, .valueint = i};
            st = set_slot(c, &sl, &idv, piece->valuestring, (float)score->valuedouble,
                          LK_TOKEN_NORMAL, "model.vocab");
            if (st != LK_OK) break;
            uscore[i++] = score->valuedouble;
        }
    } else if (!cJSON_IsObject(vocab)) {
        return FAIL(LK_ERR_FORMAT, "%s: model.vocab must be an object {piece: id}", c->name);
    } else {
        cJSON_ArrayForEach(e, vocab) {
            st = set_slot(c, &sl, e, e->string, 0.0f, LK_TOKEN_NORMAL, "model.vocab");
            if (st != LK_OK) break;
        }
    }
    const cJSON *added = jget(root, "added_tokens");
    if (st == LK_OK && added && !cJSON_IsArray(added) && !cJSON_IsNull(added))
        st = FAIL(LK_ERR_FORMAT, "%s: added_tokens must be an array", c->name);
    int ai = 0;
    if (st == LK_OK) cJSON_ArrayForEach(e, added) {
        const cJSON *id = jget(e, "id");
        const char *content = jstr(e, "content");
        if (!cJSON_IsNumber(id) || !content) {
            st = FAIL(LK_ERR_FORMAT, "%s: added_tokens[%d] needs \"id\" and \"content\"", c->name, ai);
            break;
        }
        lk_token_type ty = jbool(e, "special", false) ? LK_TOKEN_CONTROL : LK_TOKEN_USER_DEFINED;
        st = set_slot(c, &sl, id, content, 0.0f, ty, "added_tokens");
        if (st != LK_OK) break;
        ai++;
    }
    lk_tokenizer *t = st == LK_OK ? lk_tok_new(kind) : NULL;
    if (st == LK_OK && !t) st = FAIL(LK_ERR_NOMEM, "%s: out of memory", c->name);
    if (t && uscore) {
        /* every id gets a score (added tokens past the model vocab: 0) */
        double *u = realloc(uscore, ((size_t)sl.n + 1) * sizeof *u);
        int32_t n_model = cJSON_GetArraySize(vocab); /* O(n): once */
        if (u) {
            for (int32_t i = n_model; i < sl.n; i++) u[i] = 0.0;
            uscore = u;
        } else st = FAIL(LK_ERR_NOMEM, "%s: out of memory", c->name);
        t->uscore = uscore;
        uscore = NULL;
        t->ugm_min_score = DBL_MAX;
        for (int32_t i = 0; i < n_model; i++)
            if (t->uscore[i] < t->ugm_min_score) t->ugm_min_score = t->uscore[i];
    }
    free(uscore);
    bool byte_fallback = jbool(model, "byte_fallback", false);
    for (int32_t i = 0; st == LK_OK && i < sl.n; i++) {
        const slot *e2 = &sl.v[i];
        const char *s = e2->s ? e2->s : "";
        lk_token_type ty = e2->s ? e2->type : LK_TOKEN_UNUSED;
        if (byte_fallback && ty == LK_TOKEN_NORMAL && e2->n == 6 && memcmp(s, "<0x", 3) == 0 && s[5] == '>')
            ty = LK_TOKEN_BYTE;
        if (lk_tok_add_piece(t, s, e2->n, e2->score, ty) < 0)
            st = FAIL(LK_ERR_NOMEM, "%s: out of memory", c->name);
    }
    free(sl.v);
    if (st == LK_OK) st = lk_tok_build_index(t, c->err);
    if (st != LK_OK) {
        lk_tokenizer_free(t);
        return st;
    }

    /* added tokens: matched whole before the model */
    ai = 0;
    cJSON_ArrayForEach(e, added) {
        int32_t id = -1;
        json_id(jget(e, "id"), &id);
        st = lk_tok_add_special(t, id, jbool(e, "special", false), jbool(e, "lstrip", false),
                                jbool(e, "rstrip", false), jbool(e, "single_word", false), c->err);
        if (st != LK_OK) goto fail;
    }

    const char *unk = jstr(model, "unk_token");
    if (unk) t->unk = lk_tok_lookup(t, unk, strlen(unk));
    int32_t unk_id;
    if (json_id(jget(model, "unk_id"), &unk_id) && unk_id < t->n_vocab) t->unk = unk_id;
    if (kind == LK_TOKMODEL_UGM && jbool(model, "byte_fallback", false)) {
        st = FAIL(LK_ERR_UNSUPPORTED, "%s: model.byte_fallback for Unigram is not supported", c->name);
        goto fail;
    }
    if (kind == LK_TOKMODEL_BPE) {
        t->hf_bpe = true;
        t->byte_fallback = byte_fallback;
        t->fuse_unk = jbool(model, "fuse_unk", false);
        t->ignore_merges = jbool(model, "ignore_merges", false);
        const char *csp = jstr(model, "continuing_subword_prefix");
        const char *eows = jstr(model, "end_of_word_suffix");
        if ((csp && *csp) || (eows && *eows)) {
            st = FAIL(LK_ERR_UNSUPPORTED, "%s: model.continuing_subword_prefix / end_of_word_suffix are not supported", c->name);
            goto fail;
        }
        const cJSON *merges = jget(model, "merges");
        if (!cJSON_IsArray(merges)) {
            st = FAIL(LK_ERR_FORMAT, "%s: model.merges must be an array", c->name);
            goto fail;
        }
        int32_t rank = 0;
        cJSON_ArrayForEach(e, merges) {
            const char *a, *b;
            size_t na, nb;
            if (cJSON_IsString(e)) {
                /* "a b". A few vocabularies (Llama-2) have pieces with raw
                 * spaces, so "   " is " " + " ": take the space that splits
                 * the line into two pieces whose join is a piece too. */
                a = e->valuestring;
                size_t len = strlen(a);
                na = SIZE_MAX;
                for (size_t k = 1; k + 1 < len; k++)
                    if (a[k] == ' ' && lk_tok_lookup(t, a, k) >= 0 && lk_tok_lookup(t, a + k + 1, len - k - 1) >= 0 &&
                        lk_tok_lookup2(t, a, k, a + k + 1, len - k - 1) >= 0) {
                        na = k;
                        break;
                    }
                if (na == SIZE_MAX) {
                    const char *sp = strchr(a, ' ');
                    if (!sp) {
                        st = FAIL(LK_ERR_FORMAT, "%s: model.merges[%d] \"%.64s\" is not \"a b\"", c->name, rank, a);
                        goto fail;
                    }
                    na = (size_t)(sp - a);
                }
                b = a + na + 1;
                nb = len - na - 1;
            } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 &&
                       cJSON_IsString(cJSON_GetArrayItem(e, 0)) && cJSON_IsString(cJSON_GetArrayItem(e, 1))) {
                a = cJSON_GetArrayItem(e, 0)->valuestring;
                b = cJSON_GetArrayItem(e, 1)->valuestring;
                na = strlen(a);
                nb = strlen(b);
            } else {
                st = FAIL(LK_ERR_FORMAT, "%s: model.merges[%d] must be \"a b\" or [\"a\", \"b\"]", c->name, rank);
                goto fail;
            }
            int32_t ia = lk_tok_lookup(t, a, na), ib = lk_tok_lookup(t, b, nb);
            int32_t ir = lk_tok_lookup2(t, a, na, b, nb);
            if (ia < 0 || ib < 0 || ir < 0) {
                st = FAIL(LK_ERR_FORMAT, "%s: model.merges[%d]: \"%.*s\" + \"%.*s\" is not in model.vocab",
                          c->name, rank, (int)(na > 64 ? 64 : na), a, (int)(nb > 64 ? 64 : nb), b);
                goto fail;
            }
            st = lk_tok_add_merge(t, ia, ib, rank, ir, c->err);
            if (st != LK_OK) goto fail;
            rank++;
        }
    } else if (kind == LK_TOKMODEL_WPM) {
        const char *p = jstr(model, "continuing_subword_prefix");
        strcpy(t->wp_prefix, "##");
        if (p && strlen(p) < sizeof t->wp_prefix) strcpy(t->wp_prefix, p);
        int32_t mx;
        if (json_id(jget(model, "max_input_chars_per_word"), &mx)) t->wp_max_chars = mx;
    }

    st = parse_normalizer(c, t, jget(root, "normalizer"), "normalizer");
    if (st != LK_OK) goto fail;
    bool byte_level = false;
    st = parse_pretok(c, t, jget(root, "pre_tokenizer"), "pre_tokenizer", &byte_level);
    if (st != LK_OK) goto fail;
    st = parse_decoder(c, t, jget(root, "decoder"), "decoder");
    if (st != LK_OK) goto fail;
    if (kind == LK_TOKMODEL_WPM && !(t->dec & LK_DEC_WORDPIECE)) t->dec |= LK_DEC_WORDPIECE | LK_DEC_CLEANUP;
    if (byte_fallback) t->dec |= LK_DEC_BYTE_FALLBACK;
    if (byte_level) t->dec |= LK_DEC_BYTELEVEL;

    if (kind == LK_TOKMODEL_BPE && t->n_pretok == 0) lk_tok_check_split(t, "\xe2\x96\x81");
    if (t->n_norm > 0 && t->n_added > 0) {
        /* added tokens with "normalized" (default: true unless special) */
        bool *flag = calloc((size_t)t->n_vocab, sizeof *flag);
        if (!flag) {
            st = FAIL(LK_ERR_NOMEM, "%s: out of memory", c->name);
            goto fail;
        }
        cJSON_ArrayForEach(e, added) {
            int32_t id;
            bool special = jbool(e, "special", false);
            if (json_id(jget(e, "id"), &id) && id < t->n_vocab) flag[id] = jbool(e, "normalized", !special);
        }
        st = lk_tok_normalize_added(t, flag, c->err);
        free(flag);
        if (st != LK_OK) goto fail;
    }
    st = parse_post(c, t, jget(root, "post_processor"), "post_processor");
    if (st != LK_OK) goto fail;

    /* special ids */
    if (cfg) {
        t->bos = special_id(t, cfg, "bos_token");
        t->eos = special_id(t, cfg, "eos_token");
        t->pad = special_id(t, cfg, "pad_token");
        int32_t u = special_id(t, cfg, "unk_token");
        if (u >= 0) t->unk = u;
        const cJSON *cu = jget(cfg, "clean_up_tokenization_spaces");
        if (cJSON_IsBool(cu)) t->dec = cJSON_IsTrue(cu) ? t->dec | LK_DEC_CLEANUP : t->dec & ~(unsigned)LK_DEC_CLEANUP;
        const cJSON *ab = jget(cfg, "add_bos_token"), *ae = jget(cfg, "add_eos_token");
        if (cJSON_IsBool(ab) && t->bos >= 0) {
            bool has = t->n_prefix > 0 && t->prefix[0] == t->bos;
            if (cJSON_IsTrue(ab) && !has && t->n_prefix < 4) {
                memmove(t->prefix + 1, t->prefix, (size_t)t->n_prefix * sizeof t->prefix[0]);
                t->prefix[0] = t->bos;
                t->n_prefix++;
            } else if (!cJSON_IsTrue(ab) && has) {
                memmove(t->prefix, t->prefix + 1, (size_t)(t->n_prefix - 1) * sizeof t->prefix[0]);
                t->n_prefix--;
            }
        }
        if (cJSON_IsBool(ae) && t->eos >= 0) {
            bool has = t->n_suffix > 0 && t->suffix[t->n_suffix - 1] == t->eos;
            if (cJSON_IsTrue(ae) && !has && t->n_suffix < 4) t->suffix[t->n_suffix++] = t->eos;
            else if (!cJSON_IsTrue(ae) && has) t->n_suffix--;
        }
    }
    if (t->bos < 0 && t->n_prefix > 0) t->bos = t->prefix[0];
    if (t->eos < 0 && t->n_suffix > 0) t->eos = t->suffix[t->n_suffix - 1];
    if (kind == LK_TOKMODEL_WPM) {
        if (t->n_prefix > 0) t->cls = t->prefix[0];
        if (t->n_suffix > 0) t->sep = t->suffix[0];
    }
    *out = t;
    return LK_OK;
fail:
    lk_tokenizer_free(t);
    return st;
}

lk_status lk_tokenizer_from_hf_json(const char *json, size_t json_len, const char *config_json,
                                    size_t config_len, const char *name, lk_tokenizer **out,
                                    lk_error *err) {
    *out = NULL;
    ctx cc = {name ? name : "tokenizer.json", err}, *c = &cc;
    cJSON *root = cJSON_ParseWithLength(json, json_len);
    if (!root) return FAIL(LK_ERR_FORMAT, "%s: not valid JSON", c->name);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return FAIL(LK_ERR_FORMAT, "%s: the top level must be an object", c->name);
    }
    cJSON *cfg = config_json ? cJSON_ParseWithLength(config_json, config_len) : NULL;
    if (cfg && !cJSON_IsObject(cfg)) {
        cJSON_Delete(cfg);
        cfg = NULL;
    }
    lk_status st = build(c, root, cfg, out);
    cJSON_Delete(root);
    cJSON_Delete(cfg);
    return st;
}

/* ---------------------------------------------------------------- older HF files */

/* Adds {"id", "content", "special": true} to added_tokens when content is in vocab. */
static void add_special_entry(cJSON *added, const cJSON *vocab, const char *content) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(vocab, content);
    if (!cJSON_IsNumber(id)) return;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "id", id->valuedouble);
    cJSON_AddStringToObject(e, "content", content);
    cJSON_AddBoolToObject(e, "special", true);
    cJSON_AddItemToArray(added, e);
}

lk_status lk_tokenizer_from_gpt2_files(const char *vocab_json, size_t vocab_len, const char *merges,
                                       size_t merges_len, const char *name, lk_tokenizer **out,
                                       lk_error *err) {
    *out = NULL;
    ctx cc = {name, err}, *c = &cc;
    cJSON *vocab = cJSON_ParseWithLength(vocab_json, vocab_len);
    if (!cJSON_IsObject(vocab)) {
        cJSON_Delete(vocab);
        return FAIL(LK_ERR_FORMAT, "%s: vocab.json is not a JSON object {token: id}", name);
    }
    cJSON *root = cJSON_CreateObject(), *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    add_special_entry(added, vocab, "<|endoftext|>");
    cJSON_AddItemToObject(model, "vocab", vocab);
    cJSON *ml = cJSON_AddArrayToObject(model, "merges");
    for (size_t i = 0; i < merges_len;) {
        size_t e = i;
        while (e < merges_len && merges[e] != '\n') e++;
        size_t l = e;
        if (l > i && merges[l - 1] == '\r') l--;
        if (l > i && !(l - i >= 8 && memcmp(merges + i, "#version", 8) == 0)) {
            char *line = strndup(merges + i, l - i);
            if (line) cJSON_AddItemToArray(ml, cJSON_CreateString(line));
            free(line);
        }
        i = e + 1;
    }
    cJSON *pre = cJSON_AddObjectToObject(root, "pre_tokenizer");
    cJSON_AddStringToObject(pre, "type", "ByteLevel");
    cJSON_AddBoolToObject(pre, "add_prefix_space", false);
    cJSON *dec = cJSON_AddObjectToObject(root, "decoder");
    cJSON_AddStringToObject(dec, "type", "ByteLevel");
    /* GPT2Tokenizer's clean_up_tokenization_spaces defaults to true */
    cJSON *cfg = cJSON_CreateObject();
    cJSON_AddBoolToObject(cfg, "clean_up_tokenization_spaces", true);
    lk_status st = build(c, root, cfg, out);
    cJSON_Delete(cfg);
    cJSON_Delete(root);
    return st;
}

lk_status lk_tokenizer_from_bert_vocab(const char *vocab_txt, size_t len, bool lowercase,
                                       const char *name, lk_tokenizer **out, lk_error *err) {
    *out = NULL;
    ctx cc = {name, err}, *c = &cc;
    cJSON *root = cJSON_CreateObject(), *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "type", "WordPiece");
    cJSON_AddStringToObject(model, "unk_token", "[UNK]");
    cJSON_AddStringToObject(model, "continuing_subword_prefix", "##");
    cJSON *vocab = cJSON_AddObjectToObject(model, "vocab");
    int id = 0;
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && vocab_txt[e] != '\n') e++;
        size_t l = e;
        if (l > i && vocab_txt[l - 1] == '\r') l--;
        char *line = strndup(vocab_txt + i, l - i);
        if (line && !cJSON_GetObjectItemCaseSensitive(vocab, line)) cJSON_AddNumberToObject(vocab, line, id);
        free(line);
        id++;
        i = e + 1;
    }
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    static const char *const specials[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (int i = 0; i < 5; i++) add_special_entry(added, vocab, specials[i]);
    cJSON *norm = cJSON_AddObjectToObject(root, "normalizer");
    cJSON_AddStringToObject(norm, "type", "BertNormalizer");
    cJSON_AddBoolToObject(norm, "lowercase", lowercase);
    cJSON *pre = cJSON_AddObjectToObject(root, "pre_tokenizer");
    cJSON_AddStringToObject(pre, "type", "BertPreTokenizer");
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(vocab, "[CLS]"), *sep = cJSON_GetObjectItemCaseSensitive(vocab, "[SEP]");
    if (cJSON_IsNumber(cls) && cJSON_IsNumber(sep)) {
        cJSON *post = cJSON_AddObjectToObject(root, "post_processor");
        cJSON_AddStringToObject(post, "type", "BertProcessing");
        cJSON *a = cJSON_AddArrayToObject(post, "cls");
        cJSON_AddItemToArray(a, cJSON_CreateString("[CLS]"));
        cJSON_AddItemToArray(a, cJSON_CreateNumber(cls->valuedouble));
        cJSON *b = cJSON_AddArrayToObject(post, "sep");
        cJSON_AddItemToArray(b, cJSON_CreateString("[SEP]"));
        cJSON_AddItemToArray(b, cJSON_CreateNumber(sep->valuedouble));
    }
    cJSON *dec = cJSON_AddObjectToObject(root, "decoder");
    cJSON_AddStringToObject(dec, "type", "WordPiece");
    lk_status st = build(c, root, NULL, out);
    cJSON_Delete(root);
    return st;
}
