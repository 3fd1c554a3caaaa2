/* HF normalizers: Unicode normal forms, lower-casing and accent stripping
 * (utf8proc), literal and regex replacement, prepend, strip, and the BERT
 * normalizer's cleaning and CJK spacing. Each step maps a whole segment to
 * a new string. Invalid UTF-8 passes through as U+FFFD-free raw bytes where
 * utf8proc refuses it: the step is skipped for that segment. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "base/bytes.h"
#include "tokenizer/tokenizer.h"

void lk_norm_steps_free(lk_tokenizer *t) {
    for (int i = 0; i < t->n_norm; i++) {
        free(t->norm[i].pattern);
        free(t->norm[i].content);
        if (t->norm[i].re) lk_regex_free(t->norm[i].re);
    }
    free(t->norm);
    t->norm = NULL;
    t->n_norm = 0;
}

static void put_cp(lk_bytes *b, uint32_t cp) {
    char tmp[4];
    lk_bytes_put(b, tmp, lk_utf8_encode(cp, tmp));
}

static bool is_cjk(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* ---- SentencePiece precompiled charsmap (HF "Precompiled" normalizer)
 *
 * The blob is a uint32 size, a Darts double-array trie of that many bytes,
 * then NUL-terminated replacement strings the trie's values index. */

bool lk_precompiled_init(lk_norm_step *st) {
    const uint8_t *p = (const uint8_t *)st->content;
    size_t n = st->content_len;
    if (n < 4) return false;
    uint32_t trie_bytes = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    if (trie_bytes % 4 != 0 || trie_bytes > n - 4 || trie_bytes == 0) return false;
    st->trie = (const uint32_t *)(p + 4); /* content is malloc'd: 4-byte aligned */
    st->n_trie = trie_bytes / 4;
    st->repl = (const char *)p + 4 + trie_bytes;
    st->n_repl = n - 4 - trie_bytes;
    return true;
}

/* The replacement for the shortest trie key that prefixes s[0..n), or NULL. */
static const char *precompiled_lookup(const lk_norm_step *st, const char *s, size_t n, size_t *rlen) {
    const uint32_t *a = st->trie;
    size_t pos = 0;
    uint32_t unit = a[0];
    pos ^= (size_t)((unit >> 10) << ((unit & (1u << 9)) >> 6));
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == 0) break;
        pos ^= c;
        if (pos >= st->n_trie) return NULL;
        unit = a[pos];
        if ((unit & ((1u << 31) | 0xFF)) != c) return NULL;
        pos ^= (size_t)((unit >> 10) << ((unit & (1u << 9)) >> 6));
        if (pos >= st->n_trie) return NULL;
        if ((unit >> 8) & 1) {
            size_t v = a[pos] & ((1u << 31) - 1);
            if (v >= st->n_repl) return NULL;
            size_t e = v;
            while (e < st->n_repl && st->repl[e] != '\0') e++;
            *rlen = e - v;
            return st->repl + v;
        }
    }
    return NULL;
}

/* As HF (spm_precompiled) does: per extended grapheme cluster, the whole
 * cluster's replacement when it has one (clusters under 6 bytes), else
 * each character's replacement, else the character itself. */
static void precompiled(const lk_norm_step *st, const char *s, size_t n, lk_bytes *o) {
    size_t i = 0;
    while (i < n) {
        /* the grapheme cluster s[i..j) */
        uint32_t cp;
        size_t j = i + lk_tok_utf8_next(s + i, n - i, &cp);
        utf8proc_int32_t state = 0;
        uint32_t prev = cp;
        while (j < n) {
            uint32_t next;
            size_t k = lk_tok_utf8_next(s + j, n - j, &next);
            if (utf8proc_grapheme_break_stateful((utf8proc_int32_t)prev, (utf8proc_int32_t)next, &state)) break;
            prev = next;
            j += k;
        }
        size_t rl;
        const char *r = j - i < 6 ? precompiled_lookup(st, s + i, j - i, &rl) : NULL;
        if (r) {
            lk_bytes_put(o, r, rl);
        } else {
            for (size_t c = i; c < j;) {
                size_t k = lk_tok_utf8_next(s + c, j - c, &cp);
                r = precompiled_lookup(st, s + c, k, &rl);
                if (r) lk_bytes_put(o, r, rl);
                else lk_bytes_put(o, s + c, k);
                c += k;
            }
        }
        i = j;
    }
}

static void apply(const lk_norm_step *st, const char *s, size_t n, lk_bytes *o) {
    switch (st->kind) {
    case LK_NORM_PRECOMPILED:
        precompiled(st, s, n, o);
        return;
    case LK_NORM_NFC:
    case LK_NORM_NFD:
    case LK_NORM_NFKC:
    case LK_NORM_NFKD: {
        int opt = UTF8PROC_STABLE;
        if (st->kind == LK_NORM_NFC) opt |= UTF8PROC_COMPOSE;
        if (st->kind == LK_NORM_NFD) opt |= UTF8PROC_DECOMPOSE;
        if (st->kind == LK_NORM_NFKC) opt |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
        if (st->kind == LK_NORM_NFKD) opt |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
        utf8proc_uint8_t *r = NULL;
        utf8proc_ssize_t k = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &r,
                                          (utf8proc_option_t)opt);
        if (k >= 0) lk_bytes_put(o, (const char *)r, (size_t)k);
        else lk_bytes_put(o, s, n); /* invalid UTF-8: left as it is */
        free(r);
        return;
    }
    case LK_NORM_LOWER:
    case LK_NORM_STRIP_ACCENTS:
    case LK_NORM_BERT_CLEAN:
    case LK_NORM_BERT_CHINESE:
        for (size_t i = 0; i < n;) {
            uint32_t cp;
            size_t k = lk_tok_utf8_next(s + i, n - i, &cp);
            bool invalid = cp == 0xFFFD && k == 1;
            if (invalid) {
                lk_bytes_put(o, s + i, 1);
            } else if (st->kind == LK_NORM_LOWER) {
                put_cp(o, (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp));
            } else if (st->kind == LK_NORM_STRIP_ACCENTS) {
                if (utf8proc_category((utf8proc_int32_t)cp) != UTF8PROC_CATEGORY_MN) lk_bytes_put(o, s + i, k);
            } else if (st->kind == LK_NORM_BERT_CLEAN) {
                utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
                bool ws = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || c == UTF8PROC_CATEGORY_ZS;
                bool ctrl = !ws && (c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF ||
                                    c == UTF8PROC_CATEGORY_CN || c == UTF8PROC_CATEGORY_CO);
                if (cp == 0 || cp == 0xFFFD || ctrl) { /* dropped */
                } else if (ws) lk_bytes_put(o, " ", 1);
                else lk_bytes_put(o, s + i, k);
            } else {
                if (is_cjk(cp)) {
                    lk_bytes_put(o, " ", 1);
                    lk_bytes_put(o, s + i, k);
                    lk_bytes_put(o, " ", 1);
                } else {
                    lk_bytes_put(o, s + i, k);
                }
            }
            i += k;
        }
        return;
    case LK_NORM_STRIP: {
        size_t a = 0, b = n;
        if (st->left)
            while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\n' || s[a] == '\r')) a++;
        if (st->right)
            while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\n' || s[b - 1] == '\r')) b--;
        lk_bytes_put(o, s + a, b - a);
        return;
    }
    case LK_NORM_PREPEND:
        if (n > 0) lk_bytes_put(o, st->content, st->content_len);
        lk_bytes_put(o, s, n);
        return;
    case LK_NORM_REPLACE:
        if (st->re) {
            pcre2_match_data *md = pcre2_match_data_create_from_pattern((pcre2_code *)st->re, NULL);
            if (!md) {
                o->oom = true;
                return;
            }
            size_t pos = 0;
            while (pos <= n) {
                int rc = pcre2_match((pcre2_code *)st->re, (PCRE2_SPTR)s, n, pos, 0, md, NULL);
                if (rc < 0) break;
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                if (ov[1] == ov[0]) { /* empty match: copy one char and go on */
                    size_t k = ov[0] < n ? lk_utf8_len((uint8_t)s[ov[0]]) : 1;
                    lk_bytes_put(o, s + pos, ov[0] - pos);
                    lk_bytes_put(o, st->content, st->content_len);
                    if (ov[0] >= n) {
                        pos = n + 1;
                        break;
                    }
                    if (k > n - ov[0]) k = n - ov[0];
                    lk_bytes_put(o, s + ov[0], k);
                    pos = ov[0] + k;
                    continue;
                }
                lk_bytes_put(o, s + pos, ov[0] - pos);
                lk_bytes_put(o, st->content, st->content_len);
                pos = ov[1];
            }
            if (pos < n) lk_bytes_put(o, s + pos, n - pos);
            pcre2_match_data_free(md);
        } else {
            size_t pl = st->pattern_len;
            for (size_t i = 0; i < n;) {
                if (pl && i + pl <= n && memcmp(s + i, st->pattern, pl) == 0) {
                    lk_bytes_put(o, st->content, st->content_len);
                    i += pl;
                } else {
                    lk_bytes_put(o, s + i, 1);
                    i++;
                }
            }
        }
        return;
    }
}

char *lk_normalize(const lk_tokenizer *t, const char *s, size_t n, size_t *out_len) {
    lk_bytes cur = {0};
    lk_bytes_put(&cur, s, n);
    for (int i = 0; i < t->n_norm && !cur.oom; i++) {
        lk_bytes next = {0};
        lk_bytes_put(&next, "", 0);
        apply(&t->norm[i], cur.v, cur.n, &next);
        free(cur.v);
        cur = next;
    }
    if (cur.oom) {
        free(cur.v);
        return NULL;
    }
    *out_len = cur.n;
    return cur.v;
}
