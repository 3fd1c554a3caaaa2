/* Error values. The library never exits or prints on its own: a function that
 * can fail returns an lk_status and, when given an lk_error, fills it with a
 * message that says which file, what was wrong and (where we know) what to do.
 * The CLI decides how to show it. */
#ifndef LK_BASE_ERROR_H
#define LK_BASE_ERROR_H

#include "llmkit.h"

/* Sets e (if not NULL) and returns code, so callers can write
 *   return lk_error_set(err, LK_ERR_FORMAT, "%s: bad magic", path); */
lk_status lk_error_set(lk_error *e, lk_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with more context ("loading X: <old msg>"). */
lk_status lk_error_wrap(lk_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void lk_error_clear(lk_error *e);

#endif
