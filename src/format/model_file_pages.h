/* What the model loader may do with an open model file's mapped pages. */
#ifndef LK_FORMAT_MODEL_FILE_PAGES_H
#define LK_FORMAT_MODEL_FILE_PAGES_H

#include <stddef.h>

#include "llmkit.h"

/* lk_mmap_release over the file's mappings: the whole pages of [p, p + n)
 * that the file maps leave the resident set (read again on a later use).
 * Memory the file does not map (copies, a caller's buffer) is untouched. */
void lk_model_file_release_pages(const lk_model_file *mf, const void *p, size_t n);

#endif
