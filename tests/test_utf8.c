/* UTF-8 helpers: decode against CPython's replacement decoding, the error
 * kinds (overlongs, surrogates, > U+10FFFF, truncation), encode round trips
 * over every code point, validation offsets, streaming prefixes of Chinese
 * and emoji text split at every byte, and cutting at character boundaries. */
#include <stdint.h>

#include "base/utf8.h"
#include "test.h"

struct replace_case {
    const char *in;
    size_t in_len;
    const char *out;
    size_t out_len;
};

static const struct replace_case replace_cases[] = {
#include "golden/utf8_replace.inc"
};

/* Decodes with one U+FFFD per error, as a detokenizer would. */
static size_t replace_decode(const char *s, size_t len, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n;
        lk_utf8_decode(s + i, len - i, &cp, &n);
        o += lk_utf8_encode(cp, out + o); /* cp is U+FFFD on any error */
        i += n;
    }
    return o;
}

static void test_against_python(void) {
    for (size_t k = 0; k < sizeof replace_cases / sizeof *replace_cases; k++) {
        const struct replace_case *c = &replace_cases[k];
        char out[256];
        size_t n = replace_decode(c->in, c->in_len, out);
        CHECK_MSG(n == c->out_len && memcmp(out, c->out, n) == 0, "case %zu", k);
        /* validate agrees: all valid iff the decode changed nothing */
        bool same = c->in_len == c->out_len && memcmp(c->in, c->out, c->in_len) == 0;
        CHECK_MSG((lk_utf8_validate(c->in, c->in_len) == c->in_len) == same, "case %zu", k);
    }
}

static lk_utf8_status decode_status(const char *s, size_t len, uint32_t *cp, size_t *n) {
    return lk_utf8_decode(s, len, cp, n);
}

static void test_error_kinds(void) {
    uint32_t cp;
    size_t n;
    CHECK(decode_status("\xe4\xbd\xa0", 3, &cp, &n) == LK_UTF8_OK && cp == 0x4F60 && n == 3);
    CHECK(decode_status("\xf0\x9f\x98\x80", 4, &cp, &n) == LK_UTF8_OK && cp == 0x1F600 && n == 4);
    CHECK(decode_status("\xc3\xa9", 2, &cp, &n) == LK_UTF8_OK && cp == 0xE9 && n == 2);
    CHECK(decode_status("A", 1, &cp, &n) == LK_UTF8_OK && cp == 'A' && n == 1);

    CHECK(decode_status("\xc0\xaf", 2, &cp, &n) == LK_UTF8_OVERLONG && n == 1 && cp == 0xFFFD);
    CHECK(decode_status("\xe0\x80\xaf", 3, &cp, &n) == LK_UTF8_OVERLONG && n == 1);
    CHECK(decode_status("\xf0\x8f\xbf\xbf", 4, &cp, &n) == LK_UTF8_OVERLONG && n == 1);
    CHECK(decode_status("\xed\xa0\x80", 3, &cp, &n) == LK_UTF8_SURROGATE && n == 1);
    CHECK(decode_status("\xed\xbf\xbf", 3, &cp, &n) == LK_UTF8_SURROGATE);
    CHECK(decode_status("\xf4\x90\x80\x80", 4, &cp, &n) == LK_UTF8_TOO_LARGE && n == 1);
    CHECK(decode_status("\xf5\x80\x80\x80", 4, &cp, &n) == LK_UTF8_TOO_LARGE && n == 1);
    CHECK(decode_status("\xf8", 1, &cp, &n) == LK_UTF8_BAD_LEAD && n == 1);
    CHECK(decode_status("\x80", 1, &cp, &n) == LK_UTF8_BAD_LEAD && n == 1);
    CHECK(decode_status("\xe4\xbd\x41", 3, &cp, &n) == LK_UTF8_BAD_CONTINUATION && n == 2);
    CHECK(decode_status("\xc3\x41", 2, &cp, &n) == LK_UTF8_BAD_CONTINUATION && n == 1);

    CHECK(decode_status("\xe4\xbd", 2, &cp, &n) == LK_UTF8_TRUNCATED && n == 2);
    CHECK(decode_status("\xf0\x9f\x98", 3, &cp, &n) == LK_UTF8_TRUNCATED && n == 3);
    CHECK(decode_status("\xe0", 1, &cp, &n) == LK_UTF8_TRUNCATED && n == 1);
    CHECK(decode_status("", 0, &cp, &n) == LK_UTF8_TRUNCATED && n == 0);
    /* An invalid second byte is an error at once, not "truncated". */
    CHECK(decode_status("\xe0\x80", 2, &cp, &n) == LK_UTF8_OVERLONG);
    CHECK_EQ_STR(lk_utf8_status_name(LK_UTF8_SURROGATE), "encoded surrogate");
}

static void test_encode_round_trip(void) {
    int bad = 0;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        char buf[4];
        size_t n = lk_utf8_encode(cp, buf);
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            bad += n != 0;
            continue;
        }
        size_t want = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        uint32_t back;
        size_t used;
        bad += n != want || lk_utf8_decode(buf, n, &back, &used) != LK_UTF8_OK || back != cp ||
               used != n;
    }
    CHECK_EQ_INT(bad, 0);
    char buf[4];
    CHECK_EQ_INT(lk_utf8_encode(0x110000, buf), 0);
    CHECK_EQ_INT(lk_utf8_encode(UINT32_MAX, buf), 0);
}

/* Every 2-byte sequence is classified the same way by decode and validate,
 * and decode accepts exactly the encodings of U+0080..U+07FF. */
static void test_two_byte_space(void) {
    int accepted = 0;
    for (unsigned a = 0xC0; a <= 0xDF; a++)
        for (unsigned b = 0; b <= 0xFF; b++) {
            char s[2] = {(char)a, (char)b};
            uint32_t cp;
            size_t n;
            bool ok = lk_utf8_decode(s, 2, &cp, &n) == LK_UTF8_OK;
            accepted += ok;
            CHECK(ok == (lk_utf8_validate(s, 2) == 2));
        }
    CHECK_EQ_INT(accepted, 0x800 - 0x80);
}

static void test_validate(void) {
    const char *s = "ok 你好 \xed\xa0\x80 rest";
    CHECK_EQ_INT(lk_utf8_validate(s, strlen(s)), 10);
    CHECK_EQ_INT(lk_utf8_validate("abc", 3), 3);
    CHECK_EQ_INT(lk_utf8_validate("", 0), 0);
    CHECK_EQ_INT(lk_utf8_validate("ab\xe4\xbd", 4), 2); /* a truncated tail is invalid */
    CHECK_EQ_INT(lk_utf8_validate("\xff", 1), 0);
}

/* A streaming decoder that feeds the text split at every pair of points
 * prints each character exactly once and whole. */
static void test_streaming(void) {
    const char *text = "模型说：你好😀！ok";
    size_t len = strlen(text);
    for (size_t cut1 = 0; cut1 <= len; cut1++)
        for (size_t cut2 = cut1; cut2 <= len; cut2++) {
            size_t cuts[4] = {0, cut1, cut2, len};
            char pending[64], printed[64];
            size_t n_pending = 0, n_printed = 0;
            int broken = 0;
            for (int piece = 0; piece < 3; piece++) {
                size_t plen = cuts[piece + 1] - cuts[piece];
                memcpy(pending + n_pending, text + cuts[piece], plen);
                n_pending += plen;
                size_t ready = lk_utf8_complete_prefix(pending, n_pending);
                /* what is printed is always whole characters */
                broken += lk_utf8_validate(pending, ready) != ready;
                memcpy(printed + n_printed, pending, ready);
                n_printed += ready;
                memmove(pending, pending + ready, n_pending - ready);
                n_pending -= ready;
                broken += n_pending > 3;
            }
            CHECK_MSG(!broken && n_pending == 0 && n_printed == len &&
                          memcmp(printed, text, len) == 0,
                      "cuts %zu %zu", cut1, cut2);
        }
    /* Invalid bytes are never held back: more input cannot repair them. */
    CHECK_EQ_INT(lk_utf8_complete_prefix("a\xff", 2), 2);
    CHECK_EQ_INT(lk_utf8_complete_prefix("a\xe0\x80", 3), 3);
    CHECK_EQ_INT(lk_utf8_complete_prefix("\x80\x80\x80\x80", 4), 4);
    CHECK_EQ_INT(lk_utf8_complete_prefix("a\xf0\x9f\x98", 4), 1);
    CHECK_EQ_INT(lk_utf8_complete_prefix("", 0), 0);
}

static void test_truncate(void) {
    const char *s = "你好ab😀"; /* 3 + 3 + 2 + 4 bytes */
    size_t len = strlen(s);
    CHECK_EQ_INT(lk_utf8_truncate(s, len, 100), len);
    CHECK_EQ_INT(lk_utf8_truncate(s, len, 0), 0);
    CHECK_EQ_INT(lk_utf8_truncate(s, len, 1), 0);
    CHECK_EQ_INT(lk_utf8_truncate(s, len, 2), 0);
    CHECK_EQ_INT(lk_utf8_truncate(s, len, 3), 3);
    CHECK_EQ_INT(lk_utf8_truncate(s, len, 5), 3);
    CHECK_EQ_INT(lk_utf8_truncate(s, len, 7), 7);
    CHECK_EQ_INT(lk_utf8_truncate(s, len, 9), 8);
    CHECK_EQ_INT(lk_utf8_truncate(s, len, 11), 8);
    /* Stray continuation bytes are not characters: cut anywhere among them. */
    CHECK_EQ_INT(lk_utf8_truncate("a\x80\x80\x80\x80", 5, 3), 3);
    for (size_t max = 0; max <= len; max++) {
        size_t n = lk_utf8_truncate(s, len, max);
        CHECK(n <= max && lk_utf8_validate(s, n) == n);
    }
}

int main(void) {
    test_against_python();
    test_error_kinds();
    test_encode_round_trip();
    test_two_byte_space();
    test_validate();
    test_streaming();
    test_truncate();
    return lk_test_finish("test_utf8");
}
