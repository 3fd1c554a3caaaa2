/* KV cache allocation. */
#include "model/kv_cache.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"

uint64_t lk_kv_cache_bytes(lk_dtype dtype, int32_t n_layer, int32_t n_ctx, int32_t kv_dim) {
    uint64_t elem = dtype == LK_DTYPE_F32 ? 4 : 2;
    if (n_layer <= 0 || n_ctx <= 0 || kv_dim <= 0) return 0;
    uint64_t n = (uint64_t)n_layer * (uint64_t)n_ctx; /* < 2^43 */
    if (n > UINT64_MAX / ((uint64_t)kv_dim * elem * 2)) return 0;
    return n * (uint64_t)kv_dim * elem * 2;
}

lk_status lk_kv_cache_init(lk_kv_cache *c, lk_dtype dtype, int32_t n_layer, int32_t n_ctx,
                           int32_t kv_dim, lk_error *err) {
    memset(c, 0, sizeof *c);
    if (dtype != LK_DTYPE_F16 && dtype != LK_DTYPE_F32)
        return lk_error_set(err, LK_ERR_UNSUPPORTED, "KV cache type %s is not supported (use f16 or f32)",
                            lk_dtype_name(dtype) ? lk_dtype_name(dtype) : "unknown");
    uint64_t total = lk_kv_cache_bytes(dtype, n_layer, n_ctx, kv_dim);
    if (total == 0 || total / 2 > SIZE_MAX)
        return lk_error_set(err, LK_ERR_RANGE, "KV cache of %d positions is too large", n_ctx);
    c->dtype = dtype;
    c->n_layer = n_layer;
    c->n_ctx = n_ctx;
    c->kv_dim = kv_dim;
    c->row_bytes = (size_t)kv_dim * (dtype == LK_DTYPE_F32 ? 4 : 2);
    c->k = calloc(1, (size_t)(total / 2));
    c->v = calloc(1, (size_t)(total / 2));
    if (!c->k || !c->v) {
        lk_kv_cache_free(c);
        return lk_error_set(err, LK_ERR_NOMEM,
                            "KV cache: cannot allocate %.1f MiB for %d positions (lower --ctx-size)",
                            (double)total / 1048576.0, n_ctx);
    }
    return LK_OK;
}

void lk_kv_cache_free(lk_kv_cache *c) {
    if (!c) return;
    free(c->k);
    free(c->v);
    memset(c, 0, sizeof *c);
}
