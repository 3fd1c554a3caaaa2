/* The key/value cache of one sequence: for every layer and every position
 * up to n_ctx, the rotated key and the value of each KV head.
 *
 *   k, v: [n_layer][n_ctx][kv_dim]   kv_dim = n_head_kv * head_dim
 *
 * Stored as F16 by default (half the memory; attention reads rows through
 * the F16 kernels) or F32 on request. Positions [0, n_past) are filled. */
#ifndef LK_MODEL_KV_CACHE_H
#define LK_MODEL_KV_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "llmkit.h"

typedef struct {
    lk_dtype dtype; /* LK_DTYPE_F16 or LK_DTYPE_F32 */
    int32_t n_layer, n_ctx, kv_dim;
    size_t row_bytes; /* bytes of one position's kv_dim values */
    void *k, *v;
    int32_t n_past;
} lk_kv_cache;

lk_status lk_kv_cache_init(lk_kv_cache *c, lk_dtype dtype, int32_t n_layer, int32_t n_ctx,
                           int32_t kv_dim, lk_error *err);
void lk_kv_cache_free(lk_kv_cache *c);
/* Bytes lk_kv_cache_init would allocate; 0 on overflow. */
uint64_t lk_kv_cache_bytes(lk_dtype dtype, int32_t n_layer, int32_t n_ctx, int32_t kv_dim);

static inline void *lk_kv_k(const lk_kv_cache *c, int32_t layer, int32_t pos) {
    return (char *)c->k + ((size_t)layer * (size_t)c->n_ctx + (size_t)pos) * c->row_bytes;
}
static inline void *lk_kv_v(const lk_kv_cache *c, int32_t layer, int32_t pos) {
    return (char *)c->v + ((size_t)layer * (size_t)c->n_ctx + (size_t)pos) * c->row_bytes;
}

#endif
