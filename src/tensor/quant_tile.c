/* Run-time choice of the tile kernels (quant_tile.h). */
#include "tensor/quant_tile.h"

#include "base/cpu.h"
#include "tensor/quant_blocks.h"

lk_vec_dot_tile_fn lk_vec_dot_tile_for(lk_dtype t) {
#if defined(__x86_64__)
    const lk_cpu_features *f = lk_cpu();
    if (f->avx512f && f->avx512bw && f->avx512vl && f->avx512vnni && f->avx2 && f->fma &&
        f->f16c) {
        switch (t) {
        case LK_DTYPE_Q4_0: return lk_vec_dot_tile_q4_0_avx512;
        case LK_DTYPE_Q8_0: return lk_vec_dot_tile_q8_0_avx512;
        case LK_DTYPE_Q5_0: return lk_vec_dot_tile_q5_0_avx512;
        case LK_DTYPE_Q4_K: return lk_vec_dot_tile_q4_k_avx512;
        case LK_DTYPE_Q5_K: return lk_vec_dot_tile_q5_k_avx512;
        case LK_DTYPE_Q6_K: return lk_vec_dot_tile_q6_k_avx512;
        default: return NULL;
        }
    }
#else
    (void)t;
#endif
    return NULL;
}

bool lk_quant_row_as_q8_0(lk_dtype t, const void *src, void *dst, int64_t n) {
    lk_block_q8_0 *y = dst;
    if (t == LK_DTYPE_Q4_0) {
        const lk_block_q4_0 *x = src;
        for (int64_t b = 0; b < n / LK_QK4_0; b++) {
            y[b].d = x[b].d;
            for (int j = 0; j < 16; j++) {
                y[b].qs[j] = (int8_t)((x[b].qs[j] & 0x0F) - 8);
                y[b].qs[j + 16] = (int8_t)((x[b].qs[j] >> 4) - 8);
            }
        }
        return true;
    }
    if (t == LK_DTYPE_Q5_0) {
        const lk_block_q5_0 *x = src;
        for (int64_t b = 0; b < n / LK_QK5_0; b++) {
            uint32_t qh;
            memcpy(&qh, x[b].qh, 4);
            y[b].d = x[b].d;
            for (int j = 0; j < 16; j++) {
                y[b].qs[j] = (int8_t)(((x[b].qs[j] & 0x0F) | (((qh >> j) & 1) << 4)) - 16);
                y[b].qs[j + 16] = (int8_t)(((x[b].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16);
            }
        }
        return true;
    }
    return false;
}
