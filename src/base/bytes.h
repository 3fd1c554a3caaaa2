/* A growable byte string that is always NUL-terminated. Appends never fail
 * loudly: an allocation failure sets `oom`, later appends do nothing, and the
 * owner checks `oom` once at the end (so building code stays linear). */
#ifndef LK_BASE_BYTES_H
#define LK_BASE_BYTES_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *v; /* NULL until the first append; free() it */
    size_t n, cap;
    bool oom;
} lk_bytes;

void lk_bytes_put(lk_bytes *b, const char *s, size_t n);

#endif
