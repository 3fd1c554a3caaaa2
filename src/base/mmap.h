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

/* Reads a whole (small) file into a NUL-terminated heap buffer. Caller frees.
 * max_size guards against reading something absurd. */
lk_status lk_read_file(const char *path, size_t max_size, char **out, size_t *size,
                       lk_error *err);

#endif
