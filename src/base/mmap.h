/* Read-only file mappings. Model weights are used in place from these. */
#ifndef LK_BASE_MMAP_H
#define LK_BASE_MMAP_H

#include <stddef.h>

#include "llmkit.h"

typedef struct {
    const void *data; /* NULL for an empty file */
    size_t size;
} lk_mmap;

lk_status lk_mmap_open(const char *path, lk_mmap *out, lk_error *err);
void lk_mmap_close(lk_mmap *m);

/* Lets go of this process's pages of the whole pages within [p, p + n) that
 * lie inside the mapping (nothing outside it): they leave the resident set,
 * the file's page cache keeps them, and a later read maps them again. For
 * data copied elsewhere (packed weights) that is no longer read. */
void lk_mmap_release(const lk_mmap *m, const void *p, size_t n);

/* Reads a whole (small) file into a NUL-terminated heap buffer. Caller frees.
 * max_size guards against reading something absurd. */
lk_status lk_read_file(const char *path, size_t max_size, char **out, size_t *size,
                       lk_error *err);

#endif
