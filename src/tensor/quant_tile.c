/* Run-time choice of the tile kernels (quant_tile.h). */
#include "tensor/quant_tile.h"

#include "base/cpu.h"

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
