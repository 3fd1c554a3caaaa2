/* Scalar reference dot products (quant_dot.h) and run-time dispatch.
 *
 * Per block: an exact integer sum of products, then one float multiply by
 * the two scales; blocks are accumulated in float. */
#include "tensor/quant_dot.h"

#include "base/cpu.h"
#include "tensor/dtype.h"

float lk_vec_dot_q4_0_q8_0_scalar(int64_t n, const void *vx, const lk_block_q8_0 *y) {
    const lk_block_q4_0 *x = vx;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / LK_QK8_0; b++) {
        int sumi = 0;
        for (int j = 0; j < LK_QK4_0 / 2; j++) {
            const int lo = (x[b].qs[j] & 0x0F) - 8;
            const int hi = (x[b].qs[j] >> 4) - 8;
            sumi += lo * y[b].qs[j] + hi * y[b].qs[j + LK_QK4_0 / 2];
        }
        sum += (float)sumi * (lk_f16_to_f32(x[b].d) * lk_f16_to_f32(y[b].d));
    }
    return sum;
}

float lk_vec_dot_q8_0_q8_0_scalar(int64_t n, const void *vx, const lk_block_q8_0 *y) {
    const lk_block_q8_0 *x = vx;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / LK_QK8_0; b++) {
        int sumi = 0;
        for (int j = 0; j < LK_QK8_0; j++) sumi += x[b].qs[j] * y[b].qs[j];
        sum += (float)sumi * (lk_f16_to_f32(x[b].d) * lk_f16_to_f32(y[b].d));
    }
    return sum;
}

static bool have_avx2(void) {
#if defined(__x86_64__)
    const lk_cpu_features *f = lk_cpu();
    return f->avx2 && f->fma && f->f16c;
#else
    return false;
#endif
}

lk_vec_dot_fn lk_vec_dot_for(lk_dtype t) {
    const bool avx2 = have_avx2();
    switch (t) {
#if defined(__x86_64__)
    case LK_DTYPE_Q4_0: return avx2 ? lk_vec_dot_q4_0_q8_0_avx2 : lk_vec_dot_q4_0_q8_0_scalar;
    case LK_DTYPE_Q8_0: return avx2 ? lk_vec_dot_q8_0_q8_0_avx2 : lk_vec_dot_q8_0_q8_0_scalar;
#else
    case LK_DTYPE_Q4_0: (void)avx2; return lk_vec_dot_q4_0_q8_0_scalar;
    case LK_DTYPE_Q8_0: return lk_vec_dot_q8_0_q8_0_scalar;
#endif
    default: return NULL;
    }
}

float lk_vec_dot_q4_0_q8_0(int64_t n, const void *x, const lk_block_q8_0 *y) {
    return lk_vec_dot_for(LK_DTYPE_Q4_0)(n, x, y);
}

float lk_vec_dot_q8_0_q8_0(int64_t n, const void *x, const lk_block_q8_0 *y) {
    return lk_vec_dot_for(LK_DTYPE_Q8_0)(n, x, y);
}
