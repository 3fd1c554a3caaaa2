/* Stop strings over streamed text. Generation stops when the text produced
 * so far contains any of the stop strings; the stop string itself and
 * anything after it are not shown. While the end of the text could still be
 * the start of a stop string, that tail is held back, so a caller streaming
 * the returned text never prints part of a stop string.
 *
 * Text goes in as the detokenizer produces it (whole UTF-8 characters); the
 * held-back tail always starts at a character boundary because stop strings
 * are matched from their first byte. */
#ifndef LK_GENERATE_STOP_H
#define LK_GENERATE_STOP_H

#include <stdbool.h>
#include <stddef.h>

#include "llmkit.h"

typedef struct lk_stop_matcher lk_stop_matcher;

/* Copies the n strings (empty ones are ignored). */
lk_status lk_stop_matcher_new(const char *const *stops, size_t n, lk_stop_matcher **out,
                              lk_error *err);
void lk_stop_matcher_free(lk_stop_matcher *m);

/* Adds len bytes of text. *out / *out_len: the text now safe to show (valid
 * until the next call). *stopped: a stop string was completed; *out then
 * ends right before it, and further pushes return nothing. */
lk_status lk_stop_matcher_push(lk_stop_matcher *m, const char *text, size_t len, const char **out,
                               size_t *out_len, bool *stopped, lk_error *err);
/* End of generation: the held-back tail (it did not become a stop string). */
const char *lk_stop_matcher_flush(lk_stop_matcher *m, size_t *out_len);

#endif
