/* UTF-8 decoding, validation, encoding and safe cutting.
 *
 * Design note. One decoder (lk_utf8_decode) holds all the rules; the other
 * functions are written in terms of it, so "valid", "complete" and "where to
 * cut" cannot disagree. The second byte's allowed range depends on the lead
 * byte (Table 3-7), which is where overlongs, surrogates and values above
 * U+10FFFF are caught; later continuation bytes are always 80..BF. */
#include "base/utf8.h"

const char *lk_utf8_status_name(lk_utf8_status st) {
    switch (st) {
    case LK_UTF8_OK: return "valid";
    case LK_UTF8_TRUNCATED: return "truncated sequence";
    case LK_UTF8_BAD_LEAD: return "invalid start byte";
    case LK_UTF8_BAD_CONTINUATION: return "invalid continuation byte";
    case LK_UTF8_OVERLONG: return "overlong encoding";
    case LK_UTF8_SURROGATE: return "encoded surrogate";
    case LK_UTF8_TOO_LARGE: return "code point above U+10FFFF";
    }
    return "unknown";
}

static int is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

lk_utf8_status lk_utf8_decode(const char *s, size_t len, uint32_t *cp, size_t *n_bytes) {
    const unsigned char *u = (const unsigned char *)s;
    *cp = 0xFFFD;
    *n_bytes = len;
    if (len == 0) return LK_UTF8_TRUNCATED;
    unsigned char c = u[0];
    *n_bytes = 1;
    if (c < 0x80) {
        *cp = c;
        return LK_UTF8_OK;
    }
    int need;             /* continuation bytes after the lead */
    uint32_t value;       /* the lead byte's payload bits */
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    lk_utf8_status below = LK_UTF8_BAD_CONTINUATION, above = LK_UTF8_BAD_CONTINUATION;
    if (c < 0xC0) return LK_UTF8_BAD_LEAD;
    if (c < 0xC2) return LK_UTF8_OVERLONG; /* C0, C1 would encode U+0000..U+007F */
    if (c < 0xE0) {
        need = 1, value = c & 0x1F;
    } else if (c < 0xF0) {
        need = 2, value = c & 0x0F;
        if (c == 0xE0) lo = 0xA0, below = LK_UTF8_OVERLONG;
        if (c == 0xED) hi = 0x9F, above = LK_UTF8_SURROGATE;
    } else if (c < 0xF5) {
        need = 3, value = c & 0x07;
        if (c == 0xF0) lo = 0x90, below = LK_UTF8_OVERLONG;
        if (c == 0xF4) hi = 0x8F, above = LK_UTF8_TOO_LARGE;
    } else {
        return c < 0xF8 ? LK_UTF8_TOO_LARGE : LK_UTF8_BAD_LEAD;
    }
    for (int i = 1; i <= need; i++) {
        if ((size_t)i >= len) {
            *n_bytes = len;
            return LK_UTF8_TRUNCATED;
        }
        unsigned char b = u[i];
        unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xBF;
        if (b < min || b > max) {
            /* The bytes so far are the maximal subpart; b starts afresh. */
            *n_bytes = (size_t)i;
            if (i == 1 && is_continuation(b)) return b < min ? below : above;
            return LK_UTF8_BAD_CONTINUATION;
        }
        value = (value << 6) | (b & 0x3F);
    }
    *cp = value;
    *n_bytes = (size_t)need + 1;
    return LK_UTF8_OK;
}

size_t lk_utf8_validate(const char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t n;
        if (lk_utf8_decode(s + i, len - i, &cp, &n) != LK_UTF8_OK) return i;
        i += n;
    }
    return len;
}

size_t lk_utf8_encode(uint32_t cp, char out[4]) {
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp <= 0x10FFFF) {
        o[0] = (unsigned char)(0xF0 | (cp >> 18));
        o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (unsigned char)(0x80 | (cp & 0x3F));
        return 4;
    }
    return 0;
}

/* Start of the character that may contain byte `at`: the nearest byte at or
 * before it (looking back at most 3) that is not a continuation byte. */
static size_t char_start(const char *s, size_t at) {
    size_t start = at;
    while (start > 0 && at - start < 3 && is_continuation((unsigned char)s[start])) start--;
    return start;
}

size_t lk_utf8_complete_prefix(const char *s, size_t len) {
    if (len == 0) return 0;
    size_t start = char_start(s, len - 1);
    uint32_t cp;
    size_t n;
    if (lk_utf8_decode(s + start, len - start, &cp, &n) == LK_UTF8_TRUNCATED) return start;
    return len;
}

size_t lk_utf8_truncate(const char *s, size_t len, size_t max) {
    if (max >= len) return len;
    if (!is_continuation((unsigned char)s[max])) return max;
    size_t start = char_start(s, max);
    uint32_t cp;
    size_t n;
    /* Cut before the character only if it is real and the cut falls inside it. */
    if (lk_utf8_decode(s + start, len - start, &cp, &n) == LK_UTF8_OK && start + n > max)
        return start;
    return max;
}
