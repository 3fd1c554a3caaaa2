/* Decoding: token ids back to bytes, the exact inverse of encoding, and a
 * streaming decoder that only ever hands out whole UTF-8 characters.
 *
 * Each token becomes bytes by the rules the tokenizer's decoder flags name:
 * byte-level pieces map back through GPT-2's alphabet, U+2581 becomes a
 * space, <0xNN> becomes its byte, "##" WordPiece continuations join the
 * previous word. Added tokens are their text as is. Then the dummy-prefix
 * space is removed and (WordPiece) HF's tokenization-space cleanup runs. */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/error.h"
#include "tokenizer/tokenizer.h"

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* <0xNN> -> NN, else -1. */
static int byte_piece(const char *p, size_t n) {
    if (n != 6 || memcmp(p, "<0x", 3) != 0 || p[5] != '>') return -1;
    int hi = hex_digit(p[3]), lo = hex_digit(p[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

static bool is_added(const lk_tokenizer *t, int32_t id) {
    for (size_t i = 0; i < t->n_added; i++)
        if (t->added[i].id == id) return true;
    return false;
}

/* Appends the bytes of one token. *first: nothing was output yet. */
static void token_bytes(const lk_tokenizer *t, int32_t id, bool skip_special, bool *first,
                        lk_bytes *out) {
    if (id < 0 || id >= t->n_vocab) return;
    const char *p = t->text + t->off[id];
    size_t n = t->len[id];
    lk_token_type ty = (lk_token_type)t->type[id];
    if (ty == LK_TOKEN_CONTROL || (ty == LK_TOKEN_UNKNOWN && is_added(t, id))) {
        if (skip_special) return;
        /* HF's WordPiece decoder joins every token, special ones too, with spaces */
        if ((t->dec & LK_DEC_WORDPIECE) && !*first) lk_bytes_put(out, " ", 1);
        lk_bytes_put(out, p, n);
        *first = false;
        return;
    }
    if (ty == LK_TOKEN_USER_DEFINED) {
        if ((t->dec & LK_DEC_WORDPIECE) && !*first) lk_bytes_put(out, " ", 1);
        lk_bytes_put(out, p, n);
        *first = false;
        return;
    }
    if (t->dec & LK_DEC_BYTE_FALLBACK) {
        int b = byte_piece(p, n);
        if (b >= 0) {
            char c = (char)b;
            if (*first && c == ' ' && (t->dec & LK_DEC_STRIP_ONE)) {
                *first = false;
                return;
            }
            lk_bytes_put(out, &c, 1);
            *first = false;
            return;
        }
    }
    if (t->dec & LK_DEC_WORDPIECE) {
        size_t pl = strlen(t->wp_prefix);
        if (pl && n >= pl && memcmp(p, t->wp_prefix, pl) == 0) {
            p += pl;
            n -= pl;
        } else if (!*first) {
            lk_bytes_put(out, " ", 1);
        }
    }
    size_t start = out->n;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = lk_tok_utf8_next(p + i, n - i, &cp);
        if ((t->dec & LK_DEC_BYTELEVEL) && cp < 0x144 && t->cp_byte[cp] >= 0 && k > 0) {
            char c = (char)t->cp_byte[cp];
            lk_bytes_put(out, &c, 1);
        } else if ((t->dec & LK_DEC_SPACE_MARKER) && cp == 0x2581) {
            lk_bytes_put(out, " ", 1);
        } else {
            lk_bytes_put(out, p + i, k);
        }
        i += k ? k : 1;
    }
    if (*first && (t->dec & LK_DEC_STRIP_ONE) && out->n > start && out->v[start] == ' ') {
        memmove(out->v + start, out->v + start + 1, out->n - start - 1);
        out->n--;
        out->v[out->n] = '\0';
    }
    if (out->n > start || n > 0) *first = false;
}

/* HF's clean_up_tokenization: spaces before punctuation and contractions. */
static void cleanup_spaces(lk_bytes *b) {
    static const char *const from[] = {" .", " ?", " !", " ,", " ' ", " n't", " 'm", " 's", " 've", " 're"};
    static const char *const to[] = {".", "?", "!", ",", "'", "n't", "'m", "'s", "'ve", "'re"};
    for (size_t r = 0; r < sizeof from / sizeof from[0]; r++) {
        size_t fl = strlen(from[r]), tl = strlen(to[r]), w = 0;
        for (size_t i = 0; i < b->n;) {
            if (i + fl <= b->n && memcmp(b->v + i, from[r], fl) == 0) {
                memcpy(b->v + w, to[r], tl);
                w += tl;
                i += fl;
            } else {
                b->v[w++] = b->v[i++];
            }
        }
        b->n = w;
        if (b->v) b->v[w] = '\0';
    }
}

lk_status lk_tokenizer_decode(const lk_tokenizer *t, const int32_t *ids, size_t n_ids,
                              bool skip_special, char **text, size_t *len, lk_error *err) {
    *text = NULL;
    if (len) *len = 0;
    lk_bytes out = {0};
    lk_bytes_put(&out, "", 0);
    bool first = true;
    for (size_t i = 0; i < n_ids; i++) {
        if (ids[i] < 0 || ids[i] >= t->n_vocab) {
            free(out.v);
            return lk_error_set(err, LK_ERR_RANGE, "detokenize: id %d is outside the vocabulary (0..%d)",
                                ids[i], t->n_vocab - 1);
        }
        token_bytes(t, ids[i], skip_special, &first, &out);
    }
    if (!out.oom && (t->dec & LK_DEC_CLEANUP)) cleanup_spaces(&out);
    if (out.oom) {
        free(out.v);
        return lk_error_set(err, LK_ERR_NOMEM, "detokenize: out of memory");
    }
    *text = out.v;
    if (len) *len = out.n;
    return LK_OK;
}

/* ---------------------------------------------------------------- streaming */

struct lk_detokenizer {
    const lk_tokenizer *tok;
    bool skip_special;
    bool first;
    lk_bytes pending; /* bytes not yet handed out: an unfinished character */
    lk_bytes out;     /* what the last call returned */
};

lk_detokenizer *lk_detokenizer_new(const lk_tokenizer *tok, bool skip_special) {
    lk_detokenizer *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->tok = tok;
    d->skip_special = skip_special;
    d->first = true;
    return d;
}

void lk_detokenizer_free(lk_detokenizer *d) {
    if (!d) return;
    free(d->pending.v);
    free(d->out.v);
    free(d);
}

/* How many bytes at s[0..n) could still become a valid character if more
 * bytes came: 0 when s[0] cannot start one or a byte already breaks it. */
static size_t incomplete_prefix(const uint8_t *s, size_t n) {
    size_t need;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) need = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) need = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4) need = 4;
    else return 0;
    if (n >= need) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        /* second-byte limits that rule out overlongs and surrogates */
        if (i == 1 && ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
                       (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F)))
            return 0;
    }
    return n;
}

/* Moves whole characters from pending to out; invalid bytes become U+FFFD.
 * With final, an unfinished tail becomes U+FFFD too. */
static void drain(lk_detokenizer *d, bool final) {
    const char *p = d->pending.v;
    size_t n = d->pending.n, i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = lk_tok_utf8_next(p + i, n - i, &cp);
        if (!(cp == 0xFFFD && k == 1)) { /* a whole, valid character */
            lk_bytes_put(&d->out, p + i, k);
            i += k;
            continue;
        }
        /* Invalid, or the start of a character that has not fully arrived. */
        size_t inc = incomplete_prefix((const uint8_t *)p + i, n - i);
        if (inc > 0 && i + inc == n && !final) break;
        lk_bytes_put(&d->out, "\xef\xbf\xbd", 3);
        i += inc > 0 ? inc : 1;
    }
    if (i > 0) memmove(d->pending.v, p + i, n - i);
    d->pending.n = n - i;
}

const char *lk_detokenizer_push(lk_detokenizer *d, int32_t id, size_t *len) {
    d->out.n = 0;
    lk_bytes_put(&d->out, "", 0);
    token_bytes(d->tok, id, d->skip_special, &d->first, &d->pending);
    drain(d, false);
    if (len) *len = d->out.oom ? 0 : d->out.n;
    return d->out.oom ? "" : d->out.v;
}

const char *lk_detokenizer_flush(lk_detokenizer *d, size_t *len) {
    d->out.n = 0;
    lk_bytes_put(&d->out, "", 0);
    drain(d, true);
    if (len) *len = d->out.oom ? 0 : d->out.n;
    return d->out.oom ? "" : d->out.v;
}
