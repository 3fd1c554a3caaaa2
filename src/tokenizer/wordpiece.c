/* WordPiece (BERT): greedy longest-match-first over each word.
 *
 * HF vocabularies mark continuations with a prefix ("##ing"); GGUF
 * vocabularies converted by llama.cpp mark word starts with U+2581 instead
 * ("\u2581play", "ing"). With a GGUF vocabulary the basic tokenizer runs
 * here too (NFD, lower-case, accents stripped, whitespace split, punctuation
 * and CJK ideographs one per word); with HF the normalizer and
 * pre-tokenizer steps did that already and each call gets one word.
 * A word that cannot be covered, or is longer than wp_max_chars
 * characters, becomes [UNK]. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tokenizer/tokenizer.h"

static void wpm_word(const lk_tokenizer *t, const char *w, size_t n, lk_ids *out) {
    if (n == 0) return;
    size_t nchars = 0;
    for (size_t i = 0; i < n; i += lk_utf8_len((uint8_t)w[i])) nchars++;
    size_t mark = out->n;
    bool ok = nchars <= (size_t)t->wp_max_chars;
    const char *pre = t->wp_gguf ? "" : t->wp_prefix;
    size_t pl = strlen(pre);
    for (size_t i = 0; ok && i < n;) {
        int32_t found = -1;
        size_t end = n;
        size_t maxlen = t->max_piece_len + 1;
        if (end - i > maxlen) end = i + maxlen;
        for (; end > i; end--) {
            if (end < n && ((uint8_t)w[end] & 0xC0) == 0x80) continue; /* mid-character */
            found = i > 0 ? lk_tok_lookup2(t, pre, pl, w + i, end - i) : lk_tok_lookup(t, w, end);
            if (found >= 0) break;
        }
        if (found < 0) {
            ok = false;
            break;
        }
        lk_ids_push(out, found);
        i = end;
    }
    if (!ok) {
        out->n = mark;
        lk_ids_push(out, t->unk);
    }
}

static bool is_cjk(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* GGUF: the basic tokenizer, then each word with its U+2581 start mark. */
static void wpm_gguf(const lk_tokenizer *t, const char *s, size_t n, lk_ids *out) {
    utf8proc_uint8_t *nfd = NULL;
    utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &nfd,
                                      UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
    const char *src = m >= 0 ? (const char *)nfd : s;
    size_t len = m >= 0 ? (size_t)m : n;
    char *word = malloc(4 * len + 4);
    if (!word) {
        free(nfd);
        out->oom = true;
        return;
    }
    size_t wn = 0;
#define FLUSH()                                                                            \
    do {                                                                                   \
        if (wn > 3) wpm_word(t, word, wn, out);                                            \
        memcpy(word, "\xe2\x96\x81", 3);                                                   \
        wn = 3;                                                                            \
    } while (0)
    memcpy(word, "\xe2\x96\x81", 3);
    wn = 3;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = lk_tok_utf8_next(src + i, len - i, &cp);
        i += k ? k : 1;
        utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
        bool ws = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || c == UTF8PROC_CATEGORY_ZS;
        if (ws) {
            FLUSH();
            continue;
        }
        if (cp == 0 || cp == 0xFFFD || c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF ||
            c == UTF8PROC_CATEGORY_MN)
            continue;
        uint32_t lc = (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
        bool punct = (c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO) ||
                     (cp < 0x7F && c >= UTF8PROC_CATEGORY_SM && c <= UTF8PROC_CATEGORY_SO);
        if (punct || is_cjk(cp)) {
            FLUSH();
            wn += lk_utf8_encode(lc, word + wn);
            FLUSH();
        } else {
            wn += lk_utf8_encode(lc, word + wn);
        }
    }
    FLUSH();
#undef FLUSH
    free(word);
    free(nfd);
}

void lk_wpm_encode(const lk_tokenizer *t, const char *s, size_t n, lk_ids *out) {
    if (t->wp_gguf) wpm_gguf(t, s, n, out);
    else wpm_word(t, s, n, out);
}
