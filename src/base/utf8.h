/* UTF-8 helpers. Text in llmkit is UTF-8 bytes throughout; these functions
 * check it, step through it by code point, and cut it without splitting a
 * character. Well-formedness follows Unicode's Table 3-7: no overlong forms,
 * no surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
 *
 * Streaming: a token's bytes may end in the middle of a character (one
 * Chinese character is 3 bytes and may span two tokens). A decoder appends
 * each token's bytes to a buffer, prints lk_utf8_complete_prefix() bytes of
 * it and keeps the rest (at most 3 bytes) for the next token, so every
 * character is printed once and whole. */
#ifndef LK_BASE_UTF8_H
#define LK_BASE_UTF8_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    LK_UTF8_OK = 0,
    LK_UTF8_TRUNCATED,        /* the input ends inside a sequence that could still be valid */
    LK_UTF8_BAD_LEAD,         /* a continuation byte or 0xF8..0xFF where a character starts */
    LK_UTF8_BAD_CONTINUATION, /* a sequence is cut short by a byte that is not 10xxxxxx */
    LK_UTF8_OVERLONG,         /* a longer form than needed (C0, C1, E0 80..9F, F0 80..8F) */
    LK_UTF8_SURROGATE,        /* U+D800..U+DFFF, reserved for UTF-16 */
    LK_UTF8_TOO_LARGE,        /* above U+10FFFF */
} lk_utf8_status;

/* "overlong encoding", ... for error messages. */
const char *lk_utf8_status_name(lk_utf8_status st);

/* Decodes the code point at the start of s[0..len). Always sets *n_bytes:
 *   OK: the sequence length (1..4), *cp the code point;
 *   TRUNCATED: len (every byte there is a valid start; more are needed);
 *   an error: the bytes to skip (the "maximal subpart", at least 1), the
 *     count a decoder replaces with one U+FFFD, as WHATWG and Python do.
 * *cp is U+FFFD unless OK. len 0 gives TRUNCATED with *n_bytes 0. */
lk_utf8_status lk_utf8_decode(const char *s, size_t len, uint32_t *cp, size_t *n_bytes);

/* Offset of the first byte that does not begin a complete, well-formed
 * character (a truncated last character counts), or len if all is valid. */
size_t lk_utf8_validate(const char *s, size_t len);

/* Writes cp as 1..4 bytes (no NUL) and returns the count; returns 0 and
 * writes nothing for surrogates and values above U+10FFFF. */
size_t lk_utf8_encode(uint32_t cp, char out[4]);

/* The length of the longest prefix of s[0..len) that does not end inside a
 * character which more bytes could complete. Invalid bytes count as complete
 * (more input will not fix them), so at most 3 bytes are ever held back. */
size_t lk_utf8_complete_prefix(const char *s, size_t len);

/* The largest n <= max such that cutting s[0..len) at n does not split a
 * well-formed character. */
size_t lk_utf8_truncate(const char *s, size_t len, size_t max);

#endif
