/* Pre-tokenization: cutting a text segment into the pieces BPE runs on.
 *
 * Every HF pre-tokenizer we support is a list of steps: regex splits (with
 * HF's five delimiter behaviours), the ByteLevel byte->alphabet mapping,
 * and Metaspace. Regexes run in PCRE2 with UTF and Unicode properties
 * (\p{L}, \p{N}, \s as Unicode defines them), never approximated by hand;
 * PCRE2_MATCH_INVALID_UTF lets invalid input bytes fall between matches,
 * where they stay as pieces of their own instead of failing the match.
 *
 * For GGUF vocabularies the steps come from tokenizer.ggml.pre, with the
 * patterns llama.cpp uses for that name (llama-vocab.cpp), written from the
 * tokenizer.json of each model family. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

void *lk_regex_compile(const char *pattern, size_t len, lk_error *err) {
    int code;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len,
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &code, &at,
                                   NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        lk_error_set(err, LK_ERR_FORMAT, "regex /%.*s/: %s at offset %zu", (int)(len > 200 ? 200 : len),
                     pattern, (const char *)msg, (size_t)at);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* an optimisation; fine if unavailable */
    return re;
}

void lk_regex_free(void *re) { pcre2_code_free((pcre2_code *)re); }

lk_status lk_pretok_add_step(lk_tokenizer *t, const lk_pretok_step *step, lk_error *err) {
    lk_pretok_step *v = realloc(t->pretok, (size_t)(t->n_pretok + 1) * sizeof *v);
    if (!v) return lk_error_set(err, LK_ERR_NOMEM, "tokenizer: out of memory");
    t->pretok = v;
    v[t->n_pretok++] = *step;
    return LK_OK;
}

lk_status lk_pretok_add_regex(lk_tokenizer *t, const char *pattern, lk_split_behavior b,
                              bool invert, lk_error *err) {
    void *re = lk_regex_compile(pattern, strlen(pattern), err);
    if (!re) return err ? err->code : LK_ERR_FORMAT;
    lk_pretok_step st = {.kind = LK_PRE_REGEX, .re = re, .behavior = b, .invert = invert};
    lk_status s = lk_pretok_add_step(t, &st, err);
    if (s != LK_OK) lk_regex_free(re);
    return s;
}

/* ---------------------------------------------------------------- GGUF presets */

#define GPT2_RE "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define LLAMA3_RE                                                                          \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "             \
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define QWEN2_RE                                                                           \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "                  \
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

static const char *const pre_default[] = {"[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2_RE, "\\p{N}+",
                                           "[0-9][0-9][0-9]"};
static const char *const pre_llama3[] = {LLAMA3_RE};
static const char *const pre_qwen2[] = {QWEN2_RE};
static const char *const pre_gpt2[] = {GPT2_RE};
static const char *const pre_starcoder[] = {"\\p{N}", GPT2_RE};
static const char *const pre_falcon[] = {"[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2_RE, "[0-9][0-9][0-9]"};
static const char *const pre_deepseek_coder[] = {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+",
                                                 "[一-龥ࠀ-一가-퟿]+", "\\p{N}"};
static const char *const pre_deepseek_llm[] = {
    "[\r\n]",
    "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
    "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
    "\\s+$",
    "[一-龥ࠀ-一가-퟿]+",
    "\\p{N}+"};
static const char *const pre_bloom[] = {" ?[^(\\s|.,!?…。，、।۔،)]+"};

typedef struct {
    const char *name;
    const char *const *patterns;
    int n;
} pre_preset;

#define PRESET(name, arr) {name, arr, (int)(sizeof arr / sizeof arr[0])}
static const pre_preset k_presets[] = {
    PRESET("default", pre_default),
    PRESET("llama3", pre_llama3),
    PRESET("llama-v3", pre_llama3),
    PRESET("llama-bpe", pre_llama3),
    PRESET("falcon3", pre_llama3),
    PRESET("dbrx", pre_llama3),
    PRESET("smaug-bpe", pre_llama3),
    PRESET("chatglm-bpe", pre_llama3),
    PRESET("qwen2", pre_qwen2),
    PRESET("deepseek-r1-qwen", pre_qwen2),
    PRESET("stablelm2", pre_qwen2),
    PRESET("megrez", pre_qwen2),
    PRESET("gpt-2", pre_gpt2),
    PRESET("phi-2", pre_gpt2),
    PRESET("mpt", pre_gpt2),
    PRESET("olmo", pre_gpt2),
    PRESET("jais", pre_gpt2),
    PRESET("roberta-bpe", pre_gpt2),
    PRESET("jina-es", pre_gpt2),
    PRESET("jina-de", pre_gpt2),
    PRESET("jina-v2-es", pre_gpt2),
    PRESET("jina-v2-de", pre_gpt2),
    PRESET("jina-v2-code", pre_gpt2),
    PRESET("starcoder", pre_starcoder),
    PRESET("refact", pre_starcoder),
    PRESET("command-r", pre_starcoder),
    PRESET("smollm", pre_starcoder),
    PRESET("codeshell", pre_starcoder),
    PRESET("exaone", pre_starcoder),
    PRESET("minerva-7b", pre_starcoder),
    PRESET("falcon", pre_falcon),
    PRESET("deepseek-llm", pre_deepseek_llm),
    PRESET("deepseek-coder", pre_deepseek_coder),
    PRESET("poro-chat", pre_bloom),
    PRESET("bloom", pre_bloom),
    PRESET("gpt3-finnish", pre_bloom),
};

int lk_pretok_patterns_for(const char *pre, const char *const **patterns) {
    for (size_t i = 0; i < sizeof k_presets / sizeof k_presets[0]; i++)
        if (strcmp(pre, k_presets[i].name) == 0) {
            *patterns = k_presets[i].patterns;
            return k_presets[i].n;
        }
    return 0;
}

/* ---------------------------------------------------------------- pieces */

void lk_pieces_free(lk_pieces *p) {
    free(p->buf);
    free(p->start);
    free(p->len);
    memset(p, 0, sizeof *p);
}

static bool pieces_reserve(lk_pieces *p, size_t bytes) {
    if (p->oom) return false;
    if (p->buf_len + bytes > p->buf_cap) {
        size_t cap = p->buf_cap ? p->buf_cap : 256;
        while (cap < p->buf_len + bytes) cap *= 2;
        char *b = realloc(p->buf, cap);
        if (!b) return !(p->oom = true);
        p->buf = b;
        p->buf_cap = cap;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 32;
        size_t *s = realloc(p->start, cap * sizeof *s);
        if (s) p->start = s;
        size_t *l = realloc(p->len, cap * sizeof *l);
        if (l) p->len = l;
        if (!s || !l) return !(p->oom = true);
        p->cap = cap;
    }
    return true;
}

/* A new piece holding s[0..n). */
static void piece_new(lk_pieces *p, const char *s, size_t n) {
    if (n == 0 || !pieces_reserve(p, n)) return;
    memcpy(p->buf + p->buf_len, s, n);
    p->start[p->n] = p->buf_len;
    p->len[p->n] = n;
    p->buf_len += n;
    p->n++;
}

/* Appends s[0..n) to the last piece (which is the last thing in buf). */
static void piece_extend(lk_pieces *p, const char *s, size_t n) {
    if (p->n == 0) {
        piece_new(p, s, n);
        return;
    }
    if (n == 0 || !pieces_reserve(p, n)) return;
    memcpy(p->buf + p->buf_len, s, n);
    p->buf_len += n;
    p->len[p->n - 1] += n;
}

/* ---------------------------------------------------------------- steps */

static void split_regex(const lk_pretok_step *st, const char *s, size_t n, lk_pieces *out) {
    pcre2_match_data *md = pcre2_match_data_create_from_pattern((pcre2_code *)st->re, NULL);
    if (!md) {
        out->oom = true;
        return;
    }
    size_t pos = 0, from = 0;
    bool merge_next = false; /* MERGED_NEXT: a delimiter waits for the next piece */
    bool last_delim = false;
    for (;;) {
        size_t ms = n, me = n;
        if (from <= n) {
            int rc = pcre2_match((pcre2_code *)st->re, (PCRE2_SPTR)s, n, from, 0, md, NULL);
            if (rc >= 0) {
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                ms = ov[0];
                me = ov[1];
                if (me == ms) { /* empty match: look again one character on */
                    from = ms + (ms < n ? lk_utf8_len((uint8_t)s[ms]) : 1);
                    if (from > n) from = n + 1;
                    if (ms < n) continue;
                    ms = me = n;
                }
            }
        }
        /* Two segments: the gap s[pos..ms) and the match s[ms..me). */
        for (int part = 0; part < 2; part++) {
            size_t a = part == 0 ? pos : ms, b = part == 0 ? ms : me;
            if (b <= a) continue;
            bool delim = (part == 1) != st->invert;
            switch (st->behavior) {
            case LK_SPLIT_REMOVED:
                if (!delim) piece_new(out, s + a, b - a);
                break;
            case LK_SPLIT_ISOLATED:
                piece_new(out, s + a, b - a);
                break;
            case LK_SPLIT_CONTIGUOUS:
                if (delim && last_delim) piece_extend(out, s + a, b - a);
                else piece_new(out, s + a, b - a);
                break;
            case LK_SPLIT_MERGED_PREV:
                if (delim && out->n > 0 && !last_delim) piece_extend(out, s + a, b - a);
                else piece_new(out, s + a, b - a);
                break;
            case LK_SPLIT_MERGED_NEXT:
                if (merge_next) piece_extend(out, s + a, b - a);
                else piece_new(out, s + a, b - a);
                merge_next = delim;
                break;
            }
            last_delim = delim;
        }
        if (me >= n) break;
        pos = me;
        from = me;
    }
    pcre2_match_data_free(md);
}

static void byte_level(const lk_tokenizer *t, const lk_pretok_step *st, const char *s, size_t n,
                       bool first, lk_pieces *out) {
    if (!pieces_reserve(out, 2 * n + 2)) return;
    out->start[out->n] = out->buf_len;
    size_t k = out->buf_len;
    if (st->add_prefix_space && first && (n == 0 || s[0] != ' ')) {
        memcpy(out->buf + k, "\xc4\xa0", 2); /* U+0120, GPT-2's space */
        k += 2;
    }
    for (size_t i = 0; i < n; i++) k += lk_utf8_encode(t->byte_cp[(uint8_t)s[i]], out->buf + k);
    out->len[out->n++] = k - out->buf_len;
    out->buf_len = k;
}

static void metaspace(const lk_pretok_step *st, const char *s, size_t n, bool first,
                      lk_pieces *out) {
    size_t spaces = 0;
    for (size_t i = 0; i < n; i++) spaces += s[i] == ' ';
    char *tmp = malloc(n + 2 * spaces + 4);
    if (!tmp) {
        out->oom = true;
        return;
    }
    size_t k = 0;
    bool prepend = st->prepend == 2 || (st->prepend == 1 && first);
    if (prepend && !(n > 0 && s[0] == ' ')) memcpy(tmp + k, "\xe2\x96\x81", 3), k += 3;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') memcpy(tmp + k, "\xe2\x96\x81", 3), k += 3;
        else tmp[k++] = s[i];
    }
    if (!st->split) {
        piece_new(out, tmp, k);
    } else {
        /* MergedWithNext at each U+2581. */
        size_t a = 0;
        for (size_t i = 0; i + 3 <= k; i++) {
            if (i > a && memcmp(tmp + i, "\xe2\x96\x81", 3) == 0) {
                piece_new(out, tmp + a, i - a);
                a = i;
            }
        }
        piece_new(out, tmp + a, k - a);
    }
    free(tmp);
}

void lk_pretokenize(const lk_tokenizer *t, const char *s, size_t n, bool first, lk_pieces *out) {
    memset(out, 0, sizeof *out);
    piece_new(out, s, n);
    for (int i = 0; i < t->n_pretok && !out->oom; i++) {
        const lk_pretok_step *st = &t->pretok[i];
        lk_pieces next = {0};
        for (size_t j = 0; j < out->n; j++) {
            const char *p = out->buf + out->start[j];
            size_t len = out->len[j];
            if (st->kind == LK_PRE_REGEX) split_regex(st, p, len, &next);
            else if (st->kind == LK_PRE_BYTELEVEL) byte_level(t, st, p, len, first && j == 0, &next);
            else metaspace(st, p, len, first && j == 0, &next);
        }
        bool oom = next.oom;
        lk_pieces_free(out);
        *out = next;
        out->oom = oom;
    }
}
